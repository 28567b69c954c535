// The digest scheme, apart from the other ACL helpers: it is the only part of the ZooKeeper
// client that needs OpenSSL, and a program that never computes a digest (the agent) then
// does not load libcrypto at all (it links with --as-needed).
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "zkop/zk/acl.h"

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

AclEntry DigestAclEntry(std::string_view user, std::string_view password, int perms) {
  return AclEntry{perms, "digest", DigestId(user, password)};
}

}  // namespace zkop::zk
