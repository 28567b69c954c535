// JSON string literal writer shared by the zkop::dubbo formats. Not an API.
#pragma once

#include <string>
#include <string_view>

namespace zkop::dubbo::internal {

// Appends `s` as a JSON string: quotes, backslashes and control characters escaped; other
// bytes (UTF-8) as they are.
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace zkop::dubbo::internal
