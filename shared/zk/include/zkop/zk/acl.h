// ACL helpers and ZooKeeper's digest scheme.
//
// The digest scheme identifies a user as "user:base64(sha1("user:password"))"; that string
// is both the id of a `digest` ACL entry and the value of ZooKeeper's
// -Dzookeeper.DigestAuthenticationProvider.superDigest=<user>:<digest> (for the super user).
// The password never appears in the result beyond being hashed; never log the credential
// that was hashed.
#pragma once

#include <string>
#include <string_view>

#include "zkop/zk/types.h"

namespace zkop::zk {

// base64(sha1("user:password")), e.g. Digest("super", "secret") ==
// "lK75jTNcA+U9vtVEw5vB51mj/w4=". Uses OpenSSL; never throws.
std::string Digest(std::string_view user, std::string_view password);
// "user:" + Digest(user, password): the id of a digest ACL entry and of superDigest.
std::string DigestId(std::string_view user, std::string_view password);

// world:anyone with every permission (ZOO_OPEN_ACL_UNSAFE).
Acl OpenAcl();
// world:anyone read only.
Acl ReadOnlyAcl();
// auth: every permission for the identities authenticated on the creating session
// (ZOO_CREATOR_ALL_ACL). Creating with it fails with kInvalidAcl when the session has no
// non-world identity (add digest auth first).
Acl CreatorAllAcl();
// CreatorAllAcl() plus world:anyone read: writable only by us, readable by everyone
// (what Dubbo consumers need on registrations).
Acl CreatorAllWorldReadAcl();
// One digest entry for `user` with `perms` (computed from the password, which is not kept).
AclEntry DigestAclEntry(std::string_view user, std::string_view password, int perms);

}  // namespace zkop::zk
