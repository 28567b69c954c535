#include "cli_tool.h"

#include "zkop/testing/subprocess.h"
#include "zkop/testing/temp_dir.h"

namespace zkop::devkube::testing {

ToolRun RunTool(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                const std::string& output_file, std::chrono::seconds limit) {
  zkop::testing::SubprocessOptions o;
  o.argv = argv;
  o.env = env;
  o.output_file = output_file;
  zkop::testing::Subprocess p(o);
  ToolRun r;
  std::optional<int> status = p.Wait(limit);
  if (!status) p.Kill();
  r.exit = status ? *status : -999;
  r.output = zkop::testing::ReadFile(output_file);
  return r;
}

Json PruneZeros(const Json& v) {
  if (v.is_array()) {
    Json out = Json::array(v.size());
    for (size_t i = 0; i < v.size(); ++i) out[i] = PruneZeros(v.at(i));
    return out;
  }
  if (!v.is_object()) return v;
  Json out = Json::object();
  for (const auto& [k, member] : v.as_object()) {
    Json p = PruneZeros(member);
    bool zero = p.is_null() || (p.is_string() && p.as_string().empty()) ||
                (p.is_boolean() && !p.as_bool()) ||
                (p.is_number() && p.as_number().to_double() == 0) ||
                ((p.is_object() || p.is_array()) && p.size() == 0);
    if (!zero) out[k] = p;
  }
  return out;
}

std::vector<std::string> MissingFields(const Json& actual, const Json& expected,
                                       const std::string& path) {
  std::vector<std::string> out;
  const std::string at = path.empty() ? "." : path;
  if (expected.is_object()) {
    if (!actual.is_object()) return {at + ": expected an object, got " + actual.serialize()};
    for (const auto& [k, v] : expected.as_object()) {
      if (!actual.has_field(k)) {
        out.push_back(path + "." + k + ": missing (expected " + v.serialize() + ")");
        continue;
      }
      auto more = MissingFields(actual.at(k), v, path + "." + k);
      out.insert(out.end(), more.begin(), more.end());
    }
    return out;
  }
  if (expected.is_array()) {
    if (!actual.is_array() || actual.size() != expected.size())
      return {at + ": expected " + expected.serialize() + ", got " + actual.serialize()};
    for (size_t i = 0; i < expected.size(); ++i) {
      auto more = MissingFields(actual.at(i), expected.at(i), path + "[" + std::to_string(i) + "]");
      out.insert(out.end(), more.begin(), more.end());
    }
    return out;
  }
  if (actual.serialize() != expected.serialize())
    out.push_back(at + ": expected " + expected.serialize() + ", got " + actual.serialize());
  return out;
}

}  // namespace zkop::devkube::testing
