#include "zkop/devkube/pods/container.h"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace zkop::devkube::pods {
namespace {

using web::json::value;

std::vector<std::string> Strings(const value& container, const std::string& key) {
  std::vector<std::string> out;
  if (!container.has_field(key) || !container.at(key).is_array()) return out;
  for (const auto& v : container.at(key).as_array()) {
    if (v.is_string()) out.push_back(v.as_string());
  }
  return out;
}

void Put(EnvList* env, const std::string& name, const std::string& val) {
  auto it = std::find_if(env->begin(), env->end(), [&](const auto& p) { return p.first == name; });
  if (it != env->end()) {
    it->second = val;
  } else {
    env->emplace_back(name, val);
  }
}

std::string Get(const EnvList& env, const std::string& name) {
  for (const auto& [k, v] : env) {
    if (k == name) return v;
  }
  return "";
}

EnvList Environment(const ContainerContext& ctx) {
  EnvList env;
  Put(&env, "PATH", ctx.path_env);
  Put(&env, "HOME", ctx.work_dir);
  Put(&env, "HOSTNAME", ctx.hostname);
  for (const auto& [k, v] : ctx.image->env) Put(&env, k, v);
  for (const auto& m : ctx.mounts) {
    auto it = ctx.image->mount_env.find(m.container_path);
    if (it != ctx.image->mount_env.end()) Put(&env, it->second, m.host_path);
  }
  for (const auto& [k, v] : ctx.service_env) Put(&env, k, v);
  for (const auto& [k, v] : ctx.pod_env) Put(&env, k, RewritePath(v, ctx.mounts));
  if (!ctx.hosts_file.empty()) {
    std::string java_opts = Get(env, "JAVA_OPTS");
    java_opts += std::string(java_opts.empty() ? "" : " ") +
                 "-Djdk.net.hosts.file=" + ctx.hosts_file +
                 " -Dsun.net.inetaddr.ttl=1 -Dsun.net.inetaddr.negative.ttl=0";
    Put(&env, "JAVA_OPTS", java_opts);
    const std::string preload = Get(env, "LD_PRELOAD");
    // libzkop_nss_serialize first: it makes nss_wrapper's lookups thread-safe.
    Put(&env, "LD_PRELOAD",
        std::string(ZKOP_NSS_SERIALIZE_LIB) + " libnss_wrapper.so" +
            (preload.empty() ? "" : " " + preload));
    Put(&env, "NSS_WRAPPER_HOSTS", ctx.hosts_file);
    Put(&env, "NSS_WRAPPER_HOSTNAME", ctx.hostname);
  }
  return env;
}

}  // namespace

std::string RewritePath(const std::string& v, const std::vector<Mount>& mounts) {
  // A path starts at the beginning or after a separator and ends at the end, at '/' or at a
  // character that cannot continue a file name component.
  auto starts_token = [](char c) {
    return std::string_view(" \t=:;,'\"(<>|&").find(c) != std::string_view::npos;
  };
  auto ends_name = [](char c) {
    return !(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.');
  };
  std::string out;
  size_t i = 0;
  while (i < v.size()) {
    const Mount* best = nullptr;
    if (v[i] == '/' && (i == 0 || starts_token(v[i - 1]))) {
      for (const auto& m : mounts) {
        const std::string& p = m.container_path;
        if (p.size() < 2 || p.front() != '/' || v.compare(i, p.size(), p) != 0) continue;
        const size_t after = i + p.size();
        if (after < v.size() && !ends_name(v[after]) && p.back() != '/') continue;
        if (!best || p.size() > best->container_path.size()) best = &m;
      }
    }
    if (best) {
      out += best->host_path;
      i += best->container_path.size();
    } else {
      out.push_back(v[i++]);
    }
  }
  return out;
}

std::vector<std::string> BuildEnvironment(const ContainerContext& ctx) {
  std::vector<std::string> out;
  for (const auto& [k, v] : Environment(ctx)) out.push_back(k + "=" + v);
  return out;
}

LaunchResult BuildLaunch(const value& container, const ContainerContext& ctx) {
  LaunchResult result;
  const ImageEntry& image = *ctx.image;
  const EnvList env = Environment(ctx);
  std::vector<std::string> command = Strings(container, "command");
  std::vector<std::string> args = Strings(container, "args");
  const bool has_args = container.has_field("args");
  std::vector<std::string> argv;
  if (image.run_command) {
    if (command.empty()) {
      result.error = "the local-exec image runs the container's command: set command";
      return result;
    }
    argv = command;
  } else {
    argv.push_back(image.program);
    if (!command.empty()) {
      if (command.front() != image.entrypoint) {
        result.error = "command " + command.front() + " is not this image's entrypoint (" +
                       (image.entrypoint.empty() ? "none declared" : image.entrypoint) +
                       "); the devkube image table maps only the entrypoint to a host program";
        return result;
      }
      argv.insert(argv.end(), command.begin() + 1, command.end());
    } else if (!has_args) {
      args = image.args;
    }
  }
  argv.insert(argv.end(), args.begin(), args.end());
  for (size_t i = 0; i < argv.size(); ++i) {
    std::string a = ExpandReferences(argv[i], ctx.pod_env);
    argv[i] = i == 0 && !image.run_command ? a : RewritePath(a, ctx.mounts);
  }
  result.spec.argv = std::move(argv);
  for (const auto& [k, v] : env) result.spec.env.push_back(k + "=" + v);
  result.spec.cwd = ctx.work_dir;
  result.spec.log_path = ctx.log_path;
  return result;
}

}  // namespace zkop::devkube::pods
