// Runs tests/DubboReference.java on the JDK (the reference for Dubbo's formats).
#pragma once

#include <string>
#include <vector>

namespace zkop::dubbo::testing {

// True when the build found `java` (otherwise reference tests are skipped).
bool JavaAvailable();
// Runs `java DubboReference.java <args...>` with `input` on stdin; returns stdout lines.
// Fails the current test (ADD_FAILURE) when the JVM exits non-zero.
std::vector<std::string> RunJava(const std::vector<std::string>& args, const std::string& input);
std::string Hex(const std::string& s);
std::string Unhex(const std::string& h);

}  // namespace zkop::dubbo::testing
