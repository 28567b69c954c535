// Authorization as kube-apiserver's Node,RBAC chain does it for the users devkube knows:
// members of system:masters are allowed everything (the privileged-group short cut), every
// other request is judged by the stored RBAC objects (rbac.authorization.k8s.io/v1):
// ClusterRoleBindings grant their ClusterRole everywhere (non-resource URLs included),
// RoleBindings grant their Role or ClusterRole in their namespace. Rules match verbs (or
// "*"), apiGroups (or "*"), resources ("*", "pods", "pods/log", "*/scale"), resourceNames
// (empty = any) and nonResourceURLs ("*", exact, or a prefix ending in "*"). Aggregated
// ClusterRoles are not computed. The bootstrap policy (cluster-admin, admin, edit, view,
// system:discovery, system:basic-user, system:public-info-viewer and their bindings) is
// written by EnsureBootstrapPolicy, as the real server's post-start hook does.
//
// Contract: thread-safe (reads the Store); nothing throws.
#pragma once

#include <string>

#include "auth.h"
#include "zkop/devkube/store.h"

namespace zkop::devkube {

struct Decision {
  bool allowed = false;
  // "RBAC: allowed by ClusterRoleBinding \"x\" of ClusterRole \"y\" to User \"z\"" or "".
  std::string reason;
};

Decision Authorize(const Store& store, const RequestAttributes& attributes);

// The 403 Status for a denied request, worded like the real server:
// `pods "p" is forbidden: User "u" cannot get resource "pods" in API group "" in the
// namespace "ns"` (cluster scope: `... at the cluster scope`; non-resource:
// `forbidden: User "u" cannot get path "/x"`).
ApiStatus ForbiddenStatus(const RequestAttributes& attributes, const std::string& reason = "");

// Creates the bootstrap ClusterRoles and ClusterRoleBindings that are missing.
void EnsureBootstrapPolicy(Store& store);

}  // namespace zkop::devkube
