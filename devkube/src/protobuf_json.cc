#include "protobuf_json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/unknown_field_set.h>

#include <cstdio>
#include <vector>

#include "k8s/json_options.pb.h"

namespace zkop::devkube {
namespace {

namespace pb = google::protobuf;

constexpr const char* kTime = "k8s.io.apimachinery.pkg.apis.meta.v1.Time";
constexpr const char* kMicroTime = "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime";
constexpr const char* kFieldsV1 = "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1";
constexpr const char* kIntOrString = "k8s.io.apimachinery.pkg.util.intstr.IntOrString";
constexpr const char* kQuantity = "k8s.io.apimachinery.pkg.api.resource.Quantity";

bool IsZero(const Json& v) {
  if (v.is_null()) return true;
  if (v.is_string()) return v.as_string().empty();
  if (v.is_boolean()) return !v.as_bool();
  if (v.is_number())
    return v.as_number().is_integral() ? v.as_number().to_int64() == 0
                                       : v.as_number().to_double() == 0;
  if (v.is_array() || v.is_object()) return v.size() == 0;
  return false;
}

class Converter {
 public:
  explicit Converter(ProtoJsonError* error) : error_(error) {}

  std::optional<Json> Message(const pb::Message& m, const std::string& path, int depth) {
    if (depth > kMaxProtoDepth)
      return Fail(ProtoJsonError::Kind::kInvalid, path, "nested too deeply");
    const pb::Descriptor* desc = m.GetDescriptor();
    const pb::Reflection* refl = m.GetReflection();
    const pb::UnknownFieldSet& unknown = refl->GetUnknownFields(m);
    if (unknown.field_count() > 0)
      return Fail(ProtoJsonError::Kind::kUnmodelled, path,
                  "field number " + std::to_string(unknown.field(0).number()) + " of " +
                      desc->full_name() + " is not modelled by zkop-devkube");
    const std::string& name = desc->full_name();
    if (name == kTime || name == kMicroTime) return TimeValue(m, path, name == kMicroTime);
    if (name == kIntOrString) return IntOrString(m, path);
    if (name == kQuantity) {
      const pb::FieldDescriptor* f = desc->FindFieldByNumber(1);
      return Json::string(ValidUtf8(refl->GetString(m, f)));
    }
    if (name == kFieldsV1) {
      const pb::FieldDescriptor* f = desc->FindFieldByNumber(1);
      std::string why;
      std::optional<Json> raw = ParseJson(refl->GetString(m, f), &why);
      if (!raw) return Fail(ProtoJsonError::Kind::kInvalid, path, "FieldsV1 is not JSON: " + why);
      return raw;
    }
    std::vector<const pb::FieldDescriptor*> fields;
    refl->ListFields(m, &fields);
    Json out = Json::object();
    for (const pb::FieldDescriptor* f : fields) {
      const std::string at = path.empty() ? f->name() : path + "." + f->name();
      std::optional<Json> value;
      if (f->is_map())
        value = Map(m, f, at, depth);
      else if (f->is_repeated())
        value = List(m, f, at, depth);
      else
        value = Singular(m, f, at, depth);
      if (!value) return std::nullopt;
      if (f->options().GetExtension(zkop::devkube::k8s::inline_)) {
        if (value->is_object())
          for (const auto& [k, v] : value->as_object()) out[k] = v;
        continue;
      }
      if (value->is_null()) continue;
      if (IsZero(*value) && !f->options().GetExtension(zkop::devkube::k8s::pointer)) continue;
      out[f->name()] = std::move(*value);
    }
    return out;
  }

 private:
  std::nullopt_t Fail(ProtoJsonError::Kind kind, const std::string& path, const std::string& why) {
    error_->kind = kind;
    error_->message = path.empty() ? why : path + ": " + why;
    return std::nullopt;
  }

  std::optional<Json> TimeValue(const pb::Message& m, const std::string& path, bool micro) {
    const pb::Descriptor* desc = m.GetDescriptor();
    const pb::Reflection* refl = m.GetReflection();
    const pb::FieldDescriptor* sf = desc->FindFieldByNumber(1);
    const pb::FieldDescriptor* nf = desc->FindFieldByNumber(2);
    if (!refl->HasField(m, sf) && !refl->HasField(m, nf)) return Json::null();
    int64_t seconds = refl->GetInt64(m, sf);
    // metav1.Time keeps whole seconds only (its protobuf Unmarshal drops the nanos).
    int32_t nanos = micro ? refl->GetInt32(m, nf) : 0;
    if (seconds == kGoZeroTimeSeconds && nanos == 0) return Json::null();
    std::optional<std::string> text = FormatUnixTime(seconds, nanos, micro);
    if (!text)
      return Fail(ProtoJsonError::Kind::kInvalid, path,
                  "time out of range (seconds " + std::to_string(seconds) + ", nanos " +
                      std::to_string(nanos) + ")");
    return Json::string(*text);
  }

  std::optional<Json> IntOrString(const pb::Message& m, const std::string& path) {
    const pb::Descriptor* desc = m.GetDescriptor();
    const pb::Reflection* refl = m.GetReflection();
    int64_t type = refl->GetInt64(m, desc->FindFieldByNumber(1));
    if (type == 0) return Json::number(refl->GetInt32(m, desc->FindFieldByNumber(2)));
    if (type == 1) return Json::string(ValidUtf8(refl->GetString(m, desc->FindFieldByNumber(3))));
    return Fail(ProtoJsonError::Kind::kInvalid, path,
                "impossible IntOrString.Type " + std::to_string(type));
  }

  std::optional<Json> Scalar(const pb::Message& m, const pb::FieldDescriptor* f, int index) {
    const pb::Reflection* refl = m.GetReflection();
    const bool rep = index >= 0;
    switch (f->cpp_type()) {
      case pb::FieldDescriptor::CPPTYPE_INT32:
        return Json::number(rep ? refl->GetRepeatedInt32(m, f, index) : refl->GetInt32(m, f));
      case pb::FieldDescriptor::CPPTYPE_INT64:
        return Json::number(rep ? refl->GetRepeatedInt64(m, f, index) : refl->GetInt64(m, f));
      case pb::FieldDescriptor::CPPTYPE_UINT32:
        return Json::number(rep ? refl->GetRepeatedUInt32(m, f, index) : refl->GetUInt32(m, f));
      case pb::FieldDescriptor::CPPTYPE_UINT64:
        return Json::number(rep ? refl->GetRepeatedUInt64(m, f, index) : refl->GetUInt64(m, f));
      case pb::FieldDescriptor::CPPTYPE_DOUBLE:
        return Json::number(rep ? refl->GetRepeatedDouble(m, f, index) : refl->GetDouble(m, f));
      case pb::FieldDescriptor::CPPTYPE_FLOAT:
        return Json::number(rep ? refl->GetRepeatedFloat(m, f, index) : refl->GetFloat(m, f));
      case pb::FieldDescriptor::CPPTYPE_BOOL:
        return Json::boolean(rep ? refl->GetRepeatedBool(m, f, index) : refl->GetBool(m, f));
      case pb::FieldDescriptor::CPPTYPE_ENUM:
        return Json::string(
            (rep ? refl->GetRepeatedEnum(m, f, index) : refl->GetEnum(m, f))->name());
      case pb::FieldDescriptor::CPPTYPE_STRING: {
        std::string s = rep ? refl->GetRepeatedString(m, f, index) : refl->GetString(m, f);
        if (f->type() == pb::FieldDescriptor::TYPE_BYTES) return Json::string(Base64(s));
        return Json::string(ValidUtf8(s));
      }
      case pb::FieldDescriptor::CPPTYPE_MESSAGE:
        break;
    }
    return Json::null();
  }

  std::optional<Json> Singular(const pb::Message& m, const pb::FieldDescriptor* f,
                               const std::string& at, int depth) {
    if (f->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) return Scalar(m, f, -1);
    return Message(m.GetReflection()->GetMessage(m, f), at, depth + 1);
  }

  std::optional<Json> List(const pb::Message& m, const pb::FieldDescriptor* f,
                           const std::string& at, int depth) {
    const pb::Reflection* refl = m.GetReflection();
    const int n = refl->FieldSize(m, f);
    Json out = Json::array(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      std::optional<Json> item;
      if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE)
        item = Message(refl->GetRepeatedMessage(m, f, i), at + "[" + std::to_string(i) + "]",
                       depth + 1);
      else
        item = Scalar(m, f, i);
      if (!item) return std::nullopt;
      out[static_cast<size_t>(i)] = std::move(*item);
    }
    return out;
  }

  // A map is a repeated entry message {key = 1, value = 2}; keys are strings in every map
  // the .proto files declare.
  std::optional<Json> Map(const pb::Message& m, const pb::FieldDescriptor* f, const std::string& at,
                          int depth) {
    const pb::Reflection* refl = m.GetReflection();
    const int n = refl->FieldSize(m, f);
    Json out = Json::object();
    for (int i = 0; i < n; ++i) {
      const pb::Message& entry = refl->GetRepeatedMessage(m, f, i);
      const pb::Reflection* er = entry.GetReflection();
      if (er->GetUnknownFields(entry).field_count() > 0)
        return Fail(ProtoJsonError::Kind::kUnmodelled, at, "map entry with unknown fields");
      const pb::FieldDescriptor* kf = entry.GetDescriptor()->map_key();
      const pb::FieldDescriptor* vf = entry.GetDescriptor()->map_value();
      if (kf->cpp_type() != pb::FieldDescriptor::CPPTYPE_STRING)
        return Fail(ProtoJsonError::Kind::kUnmodelled, at, "map keys must be strings");
      std::string key = ValidUtf8(er->GetString(entry, kf));
      std::optional<Json> value =
          vf->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE
              ? Message(er->GetMessage(entry, vf), at + "." + key, depth + 1)
              : Scalar(entry, vf, -1);
      if (!value) return std::nullopt;
      out[key] = std::move(*value);
    }
    return out;
  }

  ProtoJsonError* error_;
};

}  // namespace

std::string ValidUtf8(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xe  ? 3
                 : (c >> 3) == 0x1e ? 4
                                    : 0;
    bool ok = len > 0 && i + len <= s.size();
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; ok && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      ok = (cc & 0xc0) == 0x80;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid too.
    if (ok && ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
               (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff))
      ok = false;
    if (ok) {
      out.append(s, i, len);
      i += len;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
  return out;
}

std::optional<Json> ProtoToJson(const google::protobuf::Message& message, ProtoJsonError* error) {
  return Converter(error).Message(message, "", 0);
}

}  // namespace zkop::devkube
