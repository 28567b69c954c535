// apps/v1 workloads as kube-controller-manager and the API server's defaulting treat them.
// Internal to the emulator: the Store calls DefaultWorkload on every write of a Deployment or
// ReplicaSet; ControllerManager calls the Sync functions.
//
// Contract: Sync* read and write the Store (never throw; write failures are left for the next
// sync) and answer how soon they want to run again (zero: only on a change).
#pragma once

#include <chrono>
#include <string>

#include "json_util.h"
#include "zkop/devkube/store.h"

namespace zkop::devkube {

// Server-side defaults (k8s.io/kubernetes/pkg/apis/apps/v1/defaults.go and the core pod
// template defaults): replicas 1; Deployment strategy RollingUpdate 25%/25%,
// revisionHistoryLimit 10, progressDeadlineSeconds 600; pod template restartPolicy,
// terminationGracePeriodSeconds, dnsPolicy, schedulerName, securityContext, container
// terminationMessagePath/Policy, imagePullPolicy, port protocol.
void DefaultWorkload(const std::string& resource, Json& object);

// The pod-template-hash label value: FNV-32a of the template (and collisionCount), rendered
// with the generateName alphabet like rand.SafeEncodeString.
std::string PodTemplateHash(const Json& pod_template, int64_t collision_count);

// Does `pod` count as ready / available (ready for minReadySeconds) at `now`?
bool PodReady(const Json& pod);
bool PodAvailable(const Json& pod, int64_t min_ready_seconds,
                  std::chrono::system_clock::time_point now,
                  std::chrono::milliseconds* available_in);

// The controller ownerReference of `object` if it is of `kind`; uid or "".
std::string ControllerUid(const Json& object, const std::string& kind);
std::string ControllerName(const Json& object, const std::string& kind);

std::chrono::milliseconds SyncReplicaSet(Store& store, const std::string& ns,
                                         const std::string& name,
                                         std::chrono::system_clock::time_point now);
std::chrono::milliseconds SyncDeployment(Store& store, const std::string& ns,
                                         const std::string& name,
                                         std::chrono::system_clock::time_point now);

}  // namespace zkop::devkube
