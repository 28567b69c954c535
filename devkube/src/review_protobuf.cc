#include "review_protobuf.h"

#include <cstdint>
#include <functional>
#include <string_view>

namespace zkop::devkube {
namespace {

// Field numbers from k8s.io/api/{authentication,authorization}/v1/generated.proto.
struct Reader {
  std::string_view data;
  size_t pos = 0;
  bool failed = false;

  bool Done() const { return failed || pos >= data.size(); }
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= data.size()) break;
      uint8_t b = static_cast<uint8_t>(data[pos++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    failed = true;
    return 0;
  }
  // Calls `field(number, wire_type, bytes_or_empty, varint)` for each field.
  void Each(const std::function<void(uint32_t, std::string_view, uint64_t)>& field) {
    while (!Done()) {
      uint64_t key = Varint();
      uint32_t number = static_cast<uint32_t>(key >> 3);
      switch (key & 7) {
        case 0:
          field(number, {}, Varint());
          break;
        case 2: {
          uint64_t n = Varint();
          if (failed || n > data.size() - pos) {
            failed = true;
            return;
          }
          field(number, data.substr(pos, n), 0);
          pos += n;
          break;
        }
        case 1:
          pos += 8;
          break;
        case 5:
          pos += 4;
          break;
        default:
          failed = true;
          return;
      }
      if (pos > data.size()) failed = true;
    }
  }
};

Json Str(std::string_view s) { return Json::string(std::string(s)); }

void Append(Json& obj, const char* key, std::string_view s) {
  if (!obj.has_field(key)) obj[key] = Json::array();
  obj[key][obj[key].size()] = Str(s);
}

bool Decode(std::string_view bytes,
            const std::function<void(uint32_t, std::string_view, uint64_t)>& f) {
  Reader r{bytes};
  r.Each(f);
  return !r.failed;
}

}  // namespace

std::optional<Json> DecodeReviewProtobuf(const std::string& body, std::string* error) {
  if (body.size() > 1024 * 1024 || body.compare(0, 4, std::string("k8s\0", 4)) != 0) {
    *error = "not a Kubernetes protobuf envelope";
    return std::nullopt;
  }
  std::string api_version, kind;
  std::string_view raw;
  bool ok = Decode(std::string_view(body).substr(4), [&](uint32_t n, std::string_view b, uint64_t) {
    if (n == 1)
      Decode(b, [&](uint32_t m, std::string_view s, uint64_t) {
        if (m == 1) api_version = s;
        if (m == 2) kind = s;
      });
    if (n == 2) raw = b;
  });
  if (!ok) {
    *error = "malformed runtime.Unknown envelope";
    return std::nullopt;
  }
  Json out = Json::object();
  out["apiVersion"] = Json::string(api_version);
  out["kind"] = Json::string(kind);
  Json spec = Json::object();
  bool good = true;
  auto attributes = [&](std::string_view b, bool resource) {
    static const char* kResource[] = {"",        "namespace", "verb",        "group",
                                      "version", "resource",  "subresource", "name"};
    Json a = Json::object();
    good &= Decode(b, [&](uint32_t m, std::string_view s, uint64_t) {
      if (resource && m >= 1 && m <= 7) a[kResource[m]] = Str(s);
      if (!resource && m == 1) a["path"] = Str(s);
      if (!resource && m == 2) a["verb"] = Str(s);
    });
    return a;
  };
  good &= Decode(raw, [&](uint32_t n, std::string_view b, uint64_t) {
    if (n != 2) return;  // 1: metadata, 3: status
    if (kind == "TokenRequest") {
      good &= Decode(b, [&](uint32_t m, std::string_view s, uint64_t v) {
        if (m == 1) Append(spec, "audiences", s);
        if (m == 4) spec["expirationSeconds"] = Json::number(static_cast<int64_t>(v));
        if (m == 3) {
          Json ref = Json::object();
          good &= Decode(s, [&](uint32_t k, std::string_view t, uint64_t) {
            static const char* kRef[] = {"", "kind", "apiVersion", "name", "uid"};
            if (k >= 1 && k <= 4) ref[kRef[k]] = Str(t);
          });
          spec["boundObjectRef"] = ref;
        }
      });
    } else if (kind == "TokenReview") {
      good &= Decode(b, [&](uint32_t m, std::string_view s, uint64_t) {
        if (m == 1) spec["token"] = Str(s);
        if (m == 2) Append(spec, "audiences", s);
      });
    } else {  // the access reviews
      good &= Decode(b, [&](uint32_t m, std::string_view s, uint64_t) {
        if (m == 1) spec["resourceAttributes"] = attributes(s, true);
        if (m == 2) spec["nonResourceAttributes"] = attributes(s, false);
        if (m == 3) spec["user"] = Str(s);
        if (m == 4) Append(spec, "groups", s);
        if (m == 6) spec["uid"] = Str(s);
      });
    }
  });
  if (!good) {
    *error = "malformed " + kind + " message";
    return std::nullopt;
  }
  if (kind != "SelfSubjectReview") out["spec"] = spec;
  return out;
}

}  // namespace zkop::devkube
