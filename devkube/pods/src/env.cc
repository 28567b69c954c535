#include "zkop/devkube/pods/env.h"

#include <algorithm>

namespace zkop::devkube::pods {
namespace {

using web::json::value;

std::string Str(const value& v, const std::string& key) {
  if (!v.is_object() || !v.has_field(key) || !v.at(key).is_string()) return "";
  return v.at(key).as_string();
}

bool Optional(const value& ref) {
  return ref.has_field("optional") && ref.at("optional").is_boolean() &&
         ref.at("optional").as_bool();
}

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

// The string data of a ConfigMap or Secret (Secret data base64-decoded; stringData too).
std::optional<std::map<std::string, std::string>> ObjectData(const value& obj, bool secret) {
  std::map<std::string, std::string> out;
  if (obj.has_field("data") && obj.at("data").is_object()) {
    for (const auto& [k, v] : obj.at("data").as_object()) {
      if (!v.is_string()) continue;
      if (secret) {
        auto decoded = DecodeBase64(v.as_string());
        if (!decoded) return std::nullopt;
        out[k] = *decoded;
      } else {
        out[k] = v.as_string();
      }
    }
  }
  if (secret && obj.has_field("stringData") && obj.at("stringData").is_object()) {
    for (const auto& [k, v] : obj.at("stringData").as_object()) {
      if (v.is_string()) out[k] = v.as_string();
    }
  }
  return out;
}

void Set(EnvList* vars, const std::string& name, std::string val) {
  auto it =
      std::find_if(vars->begin(), vars->end(), [&](const auto& p) { return p.first == name; });
  if (it != vars->end()) vars->erase(it);
  vars->emplace_back(name, std::move(val));
}

}  // namespace

std::optional<std::string> DecodeBase64(const std::string& text) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t padding = 0;
  for (char c : text) {
    if (c == '\n' || c == '\r') continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding) return std::nullopt;
    const size_t idx = kAlphabet.find(c);
    if (idx == std::string::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(idx);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (padding > 2) return std::nullopt;
  return out;
}

std::string ExpandReferences(const std::string& text, const EnvList& vars) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size()) {
      out.push_back(text[i]);
      continue;
    }
    if (text[i + 1] == '$') {
      out.push_back('$');
      ++i;
      continue;
    }
    if (text[i + 1] == '(') {
      const size_t close = text.find(')', i + 2);
      if (close != std::string::npos) {
        const std::string name = text.substr(i + 2, close - i - 2);
        auto it =
            std::find_if(vars.begin(), vars.end(), [&](const auto& p) { return p.first == name; });
        if (it != vars.end()) {
          out += it->second;
        } else {
          out += text.substr(i, close - i + 1);
        }
        i = close;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::optional<std::string> FieldPathValue(const value& pod, const value& status,
                                          const std::string& path) {
  const value meta = pod.has_field("metadata") ? pod.at("metadata") : value::object();
  const value spec = pod.has_field("spec") ? pod.at("spec") : value::object();
  if (path == "metadata.name") return Str(meta, "name");
  if (path == "metadata.namespace") return Str(meta, "namespace");
  if (path == "metadata.uid") return Str(meta, "uid");
  if (path == "spec.nodeName") return Str(spec, "nodeName");
  if (path == "spec.serviceAccountName") return Str(spec, "serviceAccountName");
  if (path == "status.podIP") return Str(status, "podIP");
  if (path == "status.hostIP") return Str(status, "hostIP");
  if (path == "status.podIPs" || path == "status.hostIPs") {
    const std::string ip = Str(status, path == "status.podIPs" ? "podIP" : "hostIP");
    return ip;
  }
  for (const char* map : {"labels", "annotations"}) {
    const std::string prefix = std::string("metadata.") + map + "['";
    if (path.rfind(prefix, 0) == 0 && path.size() > prefix.size() + 2 &&
        path.compare(path.size() - 2, 2, "']") == 0) {
      const std::string key = path.substr(prefix.size(), path.size() - prefix.size() - 2);
      if (!meta.has_field(map)) return std::string();
      return Str(meta.at(map), key);
    }
  }
  return std::nullopt;
}

EnvResult ResolveEnv(const value& pod, const value& container, const value& status,
                     const ObjectLookup& lookup) {
  EnvResult result;
  auto fail = [&](std::string message) {
    result.error = std::move(message);
    return result;
  };
  if (container.has_field("envFrom") && container.at("envFrom").is_array()) {
    for (const auto& from : container.at("envFrom").as_array()) {
      const bool secret = from.has_field("secretRef");
      const value ref =
          secret ? from.at("secretRef")
                 : (from.has_field("configMapRef") ? from.at("configMapRef") : value::object());
      const std::string name = Str(ref, "name");
      if (name.empty()) continue;
      const std::string resource = secret ? "secrets" : "configmaps";
      auto obj = lookup(resource, name);
      if (!obj) {
        if (Optional(ref)) continue;
        return fail(std::string(secret ? "secret " : "configmap ") + Quoted(name) + " not found");
      }
      auto data = ObjectData(*obj, secret);
      if (!data) return fail("secret " + Quoted(name) + " holds data that is not valid base64");
      for (const auto& [k, v] : *data) Set(&result.vars, Str(from, "prefix") + k, v);
    }
  }
  if (container.has_field("env") && container.at("env").is_array()) {
    for (const auto& e : container.at("env").as_array()) {
      const std::string name = Str(e, "name");
      if (name.empty()) continue;
      if (!e.has_field("valueFrom")) {
        Set(&result.vars, name, ExpandReferences(Str(e, "value"), result.vars));
        continue;
      }
      const value& from = e.at("valueFrom");
      if (from.has_field("fieldRef")) {
        const std::string path = Str(from.at("fieldRef"), "fieldPath");
        auto v = FieldPathValue(pod, status, path);
        if (!v) {
          return fail("env " + name + ": unsupported fieldRef fieldPath " + Quoted(path));
        }
        Set(&result.vars, name, *v);
        continue;
      }
      const bool secret = from.has_field("secretKeyRef");
      if (!secret && !from.has_field("configMapKeyRef")) {
        return fail("env " + name +
                    ": unsupported valueFrom (expected fieldRef, configMapKeyRef or secretKeyRef)");
      }
      const value& ref = from.at(secret ? "secretKeyRef" : "configMapKeyRef");
      const std::string obj_name = Str(ref, "name");
      const std::string key = Str(ref, "key");
      const char* kind = secret ? "secret" : "configmap";
      auto obj = lookup(secret ? "secrets" : "configmaps", obj_name);
      if (!obj) {
        if (Optional(ref)) continue;
        return fail(std::string(kind) + " " + Quoted(obj_name) + " not found");
      }
      auto data = ObjectData(*obj, secret);
      if (!data) return fail("secret " + Quoted(obj_name) + " holds data that is not valid base64");
      auto it = data->find(key);
      if (it == data->end()) {
        if (Optional(ref)) continue;
        return fail("couldn't find key " + key + " in " + (secret ? "Secret " : "ConfigMap ") +
                    *FieldPathValue(pod, status, "metadata.namespace") + "/" + obj_name);
      }
      Set(&result.vars, name, it->second);
    }
  }
  return result;
}

}  // namespace zkop::devkube::pods
