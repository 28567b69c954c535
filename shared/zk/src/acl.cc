#include "zkop/zk/acl.h"

namespace zkop::zk {

Acl OpenAcl() { return {AclEntry{perm::kAll, "world", "anyone"}}; }

Acl ReadOnlyAcl() { return {AclEntry{perm::kRead, "world", "anyone"}}; }

Acl CreatorAllAcl() { return {AclEntry{perm::kAll, "auth", ""}}; }

Acl CreatorAllWorldReadAcl() {
  return {AclEntry{perm::kAll, "auth", ""}, AclEntry{perm::kRead, "world", "anyone"}};
}

}  // namespace zkop::zk
