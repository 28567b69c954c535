#include "zkop/kube/dictionary_deflater.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace zkop::kube {
namespace {

using ::testing::HasSubstr;

// Deterministic text that deflate cannot shrink much: letters from a linear congruential
// generator.
std::string Noise(size_t n, uint32_t seed) {
  std::string out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    out.push_back(static_cast<char>('!' + (seed >> 24) % 90));
  }
  return out;
}

// A Pod-like object as the operator's informer caches it; members differ in a few fields.
std::string Member(int id) {
  const std::string n = std::to_string(id);
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"labels":{"app.kubernetes.io/instance":"demo",)"
         R"("app.kubernetes.io/managed-by":"zkop","app.kubernetes.io/name":"zookeeper",)"
         R"("zkop.io/member-id":")" +
         n + R"("},"name":"demo-)" + n +
         R"(","namespace":"default","ownerReferences":[{"apiVersion":"zkop.io/v1alpha1",)"
         R"("blockOwnerDeletion":true,"controller":true,"kind":"ZookeeperCluster","name":"demo",)"
         R"("uid":"0b5c2f4e-1f0c-4b7e-9e53-6c1a2b3c4d5e"}],"resourceVersion":")" +
         std::to_string(1000 + 7 * id) + R"(","uid":"7f0c1d2e-3a4b-4c5d-8e6f-)" +
         std::to_string(100000000000 + id) +
         R"("},"status":{"conditions":[{"status":"True","type":"Ready"}],"phase":"Running",)"
         R"("podIP":"127.0.1.)" +
         n + R"("}})";
}

TEST(DictionaryDeflaterTest, RoundTripsVariedTexts) {
  const std::string large = Noise(3 * DictionaryDeflater::kWindowBytes, 7) + Member(1) +
                            Noise(DictionaryDeflater::kWindowBytes, 8);
  for (const std::string& dictionary :
       {std::string(), Member(1), Noise(2 * DictionaryDeflater::kWindowBytes, 1)}) {
    DictionaryDeflater d(dictionary);
    for (const std::string& text :
         {std::string(), std::string("x"), Member(2),
          std::string("{\"a\":\"\0\xff\x01\",\"b\":1}", 19),
          std::string("{\"data\":\"zoo ünïcødé ✓ 日本語 😀\"}"), large, Member(1) + Member(1)}) {
      const std::string deflated = d.Deflate(text);
      EXPECT_EQ(d.Inflate(deflated, text.size(), "t"), text)
          << "dictionary " << dictionary.size() << " bytes, text " << text.size() << " bytes";
    }
  }
}

TEST(DictionaryDeflaterTest, KeepsTheLastWindowOfALongerDictionary) {
  const std::string text = Noise(DictionaryDeflater::kWindowBytes + 1000, 3);
  EXPECT_EQ(DictionaryDeflater(text).dictionary(), text.substr(1000));
  EXPECT_EQ(DictionaryDeflater(Member(1)).dictionary(), Member(1));
}

TEST(DictionaryDeflaterTest, NearIdenticalTextsShrinkFarBelowPlainDeflate) {
  DictionaryDeflater plain("");
  DictionaryDeflater preset(Member(1));
  size_t text = 0, plain_bytes = 0, preset_bytes = 0;
  for (int id = 2; id <= 50; ++id) {
    text += Member(id).size();
    plain_bytes += plain.Deflate(Member(id)).size();
    preset_bytes += preset.Deflate(Member(id)).size();
  }
  EXPECT_LT(plain_bytes, text);
  EXPECT_LT(preset_bytes * 3, plain_bytes) << text << " text bytes";
  // A text unlike the dictionary costs little more than plain deflate.
  const std::string other = "{\"spec\":\"" + Noise(2000, 9) + "\"}";
  EXPECT_LE(preset.Deflate(other).size(), plain.Deflate(other).size() * 21 / 20 + 8);
}

TEST(DictionaryDeflaterTest, DataThatDoesNotInflateIsALogicErrorNamingIt) {
  DictionaryDeflater d(Member(1));
  const std::string text = Member(2) + Noise(3000, 5);
  const std::string deflated = d.Deflate(text);
  auto error_of = [&](const std::string& bytes, size_t size) -> std::string {
    try {
      d.Inflate(bytes, size, "pods default/demo-2");
    } catch (const std::logic_error& e) {
      return e.what();
    }
    return "no error";
  };
  // Cut short, recorded size too large or too small, bytes that are no deflate stream.
  for (const auto& [bytes, size] : std::vector<std::pair<std::string, size_t>>{
           {deflated.substr(0, deflated.size() / 2), text.size()},
           {deflated, text.size() + 1},
           {deflated, text.size() - 1},
           {deflated + "junk", text.size()},
           {std::string(64, '\xff'), text.size()},
           {std::string(), text.size()}}) {
    const std::string error = error_of(bytes, size);
    EXPECT_THAT(error, HasSubstr("pods default/demo-2: inflate")) << bytes.size() << "/" << size;
    EXPECT_THAT(error, HasSubstr("this is a bug"));
  }
}

}  // namespace
}  // namespace zkop::kube
