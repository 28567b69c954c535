#include "zkop/zk/acl.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

namespace zkop::zk {

std::string Digest(std::string_view user, std::string_view password) {
  std::string credential;
  credential.reserve(user.size() + 1 + password.size());
  credential.append(user).push_back(':');
  credential.append(password);
  unsigned char sha[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(credential.data()), credential.size(), sha);
  OPENSSL_cleanse(credential.data(), credential.size());
  unsigned char b64[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  int n = EVP_EncodeBlock(b64, sha, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<const char*>(b64), static_cast<size_t>(n));
}

std::string DigestId(std::string_view user, std::string_view password) {
  return std::string(user) + ":" + Digest(user, password);
}

Acl OpenAcl() { return {AclEntry{perm::kAll, "world", "anyone"}}; }

Acl ReadOnlyAcl() { return {AclEntry{perm::kRead, "world", "anyone"}}; }

Acl CreatorAllAcl() { return {AclEntry{perm::kAll, "auth", ""}}; }

Acl CreatorAllWorldReadAcl() {
  return {AclEntry{perm::kAll, "auth", ""}, AclEntry{perm::kRead, "world", "anyone"}};
}

AclEntry DigestAclEntry(std::string_view user, std::string_view password, int perms) {
  return AclEntry{perms, "digest", DigestId(user, password)};
}

}  // namespace zkop::zk
