#include "zkop/operator/cluster/render.h"

#include <charconv>

#include <cpprest/asyncrt_utils.h>

#include <cstdint>

#include "json_build.h"
#include "zkop/kube/resource.h"
#include "zkop/zk/acl.h"

namespace zkop::op::cluster {

using namespace json;  // NOLINT: the builders are this file's vocabulary

namespace {

std::string Base64(const std::string& s) {
  return utility::conversions::to_base64(std::vector<unsigned char>(s.begin(), s.end()));
}

Json Metadata(const ClusterSpec& spec, const std::string& name, bool owned = true) {
  Json meta = Obj({{"name", Str(name)},
                   {"namespace", Str(spec.ns)},
                   {"labels", StrMap(ObjectLabels(spec.name))}});
  if (owned) meta["ownerReferences"] = Arr({OwnerReference(spec)});
  return meta;
}

Json Port(const std::string& name, int port) {
  return Obj({{"name", Str(name)},
              {"port", Int(port)},
              {"targetPort", Int(port)},
              {"protocol", Str("TCP")}});
}

Json ContainerPort(const std::string& name, int port) {
  return Obj({{"name", Str(name)}, {"containerPort", Int(port)}, {"protocol", Str("TCP")}});
}

// Ready when the member serves clients: srvr over bash's /dev/tcp (no nc in the probe's
// path) at the Pod's own address, where the member binds its client port.
Json ReadinessProbe() {
  return Obj(
      {{"exec", Obj({{"command", Arr({Str("bash"), Str("-c"),
                                      Str("exec 3<>/dev/tcp/${POD_IP}/2181 && printf srvr >&3 && "
                                          "grep -qE '^Mode: (leader|follower|observer)' <&3")})}})},
       {"initialDelaySeconds", Int(2)},
       {"periodSeconds", Int(2)},
       {"timeoutSeconds", Int(3)},
       {"failureThreshold", Int(2)}});
}

// Alive while the client port accepts connections (a member without quorum still listens:
// restarting it would not bring quorum back).
Json LivenessProbe() {
  return Obj({{"tcpSocket", Obj({{"port", Str("client")}})},
              {"initialDelaySeconds", Int(30)},
              {"periodSeconds", Int(10)},
              {"timeoutSeconds", Int(5)},
              {"failureThreshold", Int(6)}});
}

Json DefaultPodSecurityContext() {
  return Obj({{"runAsNonRoot", Bool(true)},
              {"runAsUser", Int(1000)},
              {"runAsGroup", Int(1000)},
              {"fsGroup", Int(1000)},
              {"seccompProfile", Obj({{"type", Str("RuntimeDefault")}})}});
}

Json DefaultAffinity(const std::string& cluster) {
  return Obj(
      {{"podAntiAffinity",
        Obj({{"preferredDuringSchedulingIgnoredDuringExecution",
              Arr({Obj(
                  {{"weight", Int(100)},
                   {"podAffinityTerm",
                    Obj({{"labelSelector", Obj({{"matchLabels", StrMap(SelectorLabels(cluster))}})},
                         {"topologyKey", Str("kubernetes.io/hostname")}})}})})}})}});
}

Json EnvVar(const std::string& name, const std::string& value) {
  return Obj({{"name", Str(name)}, {"value", Str(value)}});
}

}  // namespace

std::map<std::string, std::string> SelectorLabels(const std::string& cluster) {
  return {{"app.kubernetes.io/name", "zookeeper"}, {"app.kubernetes.io/instance", cluster}};
}

std::map<std::string, std::string> ObjectLabels(const std::string& cluster) {
  auto labels = SelectorLabels(cluster);
  labels["app.kubernetes.io/managed-by"] = "zkop";
  return labels;
}

std::string SelectorString(const std::string& cluster) {
  return kube::SelectorFromLabels(SelectorLabels(cluster));
}

Json OwnerReference(const ClusterSpec& spec) {
  return Obj({{"apiVersion", Str(kApiVersion)},
              {"kind", Str(kKind)},
              {"name", Str(spec.name)},
              {"uid", Str(spec.uid)},
              {"controller", Bool(true)},
              {"blockOwnerDeletion", Bool(true)}});
}

zk::Member MemberOf(const ClusterSpec& spec, int id, const std::string& role,
                    const RenderOptions& options) {
  zk::Member m;
  m.id = id;
  m.host = MemberHost(spec, id, options.cluster_domain);
  m.quorum_port = kQuorumPort;
  m.election_port = kElectionPort;
  m.role = role;
  m.client_host = m.host;
  m.client_port = kClientPort;
  return m;
}

zk::EnsembleConfig InitialMembership(const ClusterSpec& spec, const RenderOptions& options) {
  zk::EnsembleConfig config;
  for (int id = 1; id <= spec.replicas; ++id)
    config.members.push_back(MemberOf(spec, id, "participant", options));
  return config;
}

std::string RenderStaticConfig(const ClusterSpec& spec) {
  std::map<std::string, std::string> settings = {
      {"tickTime", "2000"},
      {"initLimit", "10"},
      {"syncLimit", "5"},
      {"autopurge.snapRetainCount", "3"},
      {"autopurge.purgeInterval", "1"},
  };
  for (const auto& [k, v] : spec.config) settings[k] = v;
  std::string out = "# Managed by zkop-operator for ZookeeperCluster " + spec.ns + "/" + spec.name +
                    ".\n"
                    "reconfigEnabled=true\n"
                    "standaloneEnabled=false\n"
                    "4lw.commands.whitelist=srvr,stat,conf,ruok,mntr,envi,isro,wchs,dirs\n"
                    "admin.enableServer=true\n"
                    "admin.serverPort=" +
                    std::to_string(kAdminPort) + "\n";
  for (const auto& [k, v] : settings) out += k + "=" + v + "\n";
  return out;
}

std::string RenderDynamicConfig(const zk::EnsembleConfig& membership) {
  std::string out;
  for (const auto& m : membership.members) out += m.ServerLine() + "\n";
  return out;
}

Json RenderAdminSecret(const ClusterSpec& spec, const std::string& password) {
  Json secret = Obj({{"apiVersion", Str("v1")},
                     {"kind", Str("Secret")},
                     {"metadata", Metadata(spec, AdminSecretName(spec.name))},
                     {"type", Str("Opaque")}});
  secret["data"] = Obj({{"username", Str(Base64("super"))},
                        {"password", Str(Base64(password))},
                        {"digest", Str(Base64(zk::DigestId("super", password)))}});
  return secret;
}

Json RenderConfigMap(const ClusterSpec& spec, const zk::EnsembleConfig& membership) {
  return Obj({{"apiVersion", Str("v1")},
              {"kind", Str("ConfigMap")},
              {"metadata", Metadata(spec, ConfigMapName(spec.name))},
              {"data", Obj({{"zoo.cfg", Str(RenderStaticConfig(spec))},
                            {"zoo.cfg.dynamic", Str(RenderDynamicConfig(membership))}})}});
}

std::string ClientConnectString(const ClusterSpec& spec, const RenderOptions& options) {
  return ClientServiceName(spec.name) + "." + spec.ns + ".svc." + options.cluster_domain + ":" +
         std::to_string(kClientPort);
}

Json RenderDiscoveryConfigMap(const ClusterSpec& spec, const zk::EnsembleConfig& membership,
                              const RenderOptions& options) {
  std::string hosts;
  for (const auto& m : membership.members) {
    if (m.client_host.empty()) continue;
    hosts += (hosts.empty() ? "" : ",") + m.client_host;
  }
  return Obj({{"apiVersion", Str("v1")},
              {"kind", Str("ConfigMap")},
              {"metadata", Metadata(spec, DiscoveryConfigMapName(spec.name))},
              {"data", Obj({{"ZOOKEEPER", Str(membership.ConnectString())},
                            {"ZOOKEEPER_HOSTS", Str(hosts)},
                            {"ZOOKEEPER_CLIENT_PORT", Str(std::to_string(kClientPort))},
                            {"DUBBO_REGISTRY_ADDRESS",
                             Str("zookeeper://" + ClientConnectString(spec, options))}})}});
}

Json RenderHeadlessService(const ClusterSpec& spec) {
  return Obj({{"apiVersion", Str("v1")},
              {"kind", Str("Service")},
              {"metadata", Metadata(spec, HeadlessServiceName(spec.name))},
              {"spec", Obj({{"clusterIP", Str("None")},
                            {"publishNotReadyAddresses", Bool(true)},
                            {"selector", StrMap(SelectorLabels(spec.name))},
                            {"ports", Arr({Port("client", kClientPort), Port("quorum", kQuorumPort),
                                           Port("election", kElectionPort)})}})}});
}

Json RenderClientService(const ClusterSpec& spec) {
  return Obj({{"apiVersion", Str("v1")},
              {"kind", Str("Service")},
              {"metadata", Metadata(spec, ClientServiceName(spec.name))},
              {"spec", Obj({{"type", Str("ClusterIP")},
                            {"selector", StrMap(SelectorLabels(spec.name))},
                            {"ports", Arr({Port("client", kClientPort)})}})}});
}

Json RenderPodDisruptionBudget(const ClusterSpec& spec) {
  return Obj(
      {{"apiVersion", Str("policy/v1")},
       {"kind", Str("PodDisruptionBudget")},
       {"metadata", Metadata(spec, spec.name)},
       {"spec", Obj({{"maxUnavailable", Int(1)},
                     {"selector", Obj({{"matchLabels", StrMap(SelectorLabels(spec.name))}})}})}});
}

Json RenderMemberClaim(const ClusterSpec& spec, int id) {
  Json meta = Metadata(spec, MemberClaimName(spec.name, id), /*owned=*/false);
  meta["labels"][kMemberIdLabel] = Str(std::to_string(id));
  Json claim_spec =
      Obj({{"accessModes", Arr({Str("ReadWriteOnce")})},
           {"resources", Obj({{"requests", Obj({{"storage", Str(spec.storage.size)}})}})}});
  if (!spec.storage.storage_class.empty())
    claim_spec["storageClassName"] = Str(spec.storage.storage_class);
  return Obj({{"apiVersion", Str("v1")},
              {"kind", Str("PersistentVolumeClaim")},
              {"metadata", meta},
              {"spec", claim_spec}});
}

namespace {

// The member container's ports. With ZooKeeper's own Prometheus provider turned on in
// spec.config, its HTTP port too (named "metrics", what a PodMonitor selects), at
// metricsProvider.httpPort or the provider's default 7000.
Json MemberContainerPorts(const ClusterSpec& spec) {
  Json ports = Arr({ContainerPort("client", kClientPort), ContainerPort("quorum", kQuorumPort),
                    ContainerPort("election", kElectionPort), ContainerPort("admin", kAdminPort)});
  if (!spec.config.count(kMetricsProviderKey)) return ports;
  int port = kZooKeeperProviderDefaultPort;
  if (auto it = spec.config.find(kMetricsProviderPortKey); it != spec.config.end()) {
    int parsed = 0;
    const auto [end, ec] =
        std::from_chars(it->second.data(), it->second.data() + it->second.size(), parsed);
    if (ec == std::errc() && end == it->second.data() + it->second.size() && parsed > 0 &&
        parsed < 65536)
      port = parsed;
  }
  ports[ports.size()] = ContainerPort("metrics", port);
  return ports;
}

// Pod <cluster>-<id> without its template hash.
Json MemberPodWithoutHash(const ClusterSpec& spec, int id) {
  const std::string name = MemberPodName(spec.name, id);
  Json meta = Metadata(spec, name);
  for (const auto& [k, v] : spec.pod.labels) meta["labels"][k] = Str(v);
  meta["labels"][kMemberIdLabel] = Str(std::to_string(id));
  Json annotations = StrMap(spec.pod.annotations);
  annotations[kConfigHashAnnotation] = Str(StableHash(RenderStaticConfig(spec)));

  std::string java_opts = "-Dzookeeper.admin.serverAddress=$(POD_IP)";
  if (!spec.jvm_flags.empty()) java_opts += " " + spec.jvm_flags;
  Json container = Obj(
      {{"name", Str("zookeeper")},
       {"image", Str(spec.image)},
       {"env",
        Arr({Obj({{"name", Str("POD_IP")},
                  {"valueFrom", Obj({{"fieldRef", Obj({{"fieldPath", Str("status.podIP")}})}})}}),
             EnvVar("ZK_MEMBER_ID", std::to_string(id)),
             EnvVar("ZK_SUPER_DIGEST_FILE", "/etc/zkop/admin/digest"),
             EnvVar("JAVA_OPTS", java_opts)})},
       {"ports", MemberContainerPorts(spec)},
       {"readinessProbe", ReadinessProbe()},
       {"livenessProbe", LivenessProbe()},
       {"securityContext", Obj({{"allowPrivilegeEscalation", Bool(false)},
                                {"readOnlyRootFilesystem", Bool(true)},
                                {"capabilities", Obj({{"drop", Arr({Str("ALL")})}})}})},
       {"volumeMounts", Arr({Obj({{"name", Str("config")},
                                  {"mountPath", Str("/etc/zkop/config")},
                                  {"readOnly", Bool(true)}}),
                             Obj({{"name", Str("admin")},
                                  {"mountPath", Str("/etc/zkop/admin")},
                                  {"readOnly", Bool(true)}}),
                             Obj({{"name", Str("data")}, {"mountPath", Str("/data")}}),
                             Obj({{"name", Str("tmp")}, {"mountPath", Str("/tmp")}})})}});
  if (!spec.image_pull_policy.empty()) container["imagePullPolicy"] = Str(spec.image_pull_policy);
  if (spec.resources) container["resources"] = *spec.resources;

  Json pod_spec = Obj(
      {{"hostname", Str(name)},
       {"subdomain", Str(HeadlessServiceName(spec.name))},
       {"automountServiceAccountToken", Bool(false)},
       {"terminationGracePeriodSeconds", Int(30)},
       {"securityContext",
        spec.pod.security_context ? *spec.pod.security_context : DefaultPodSecurityContext()},
       {"affinity", spec.pod.affinity ? *spec.pod.affinity : DefaultAffinity(spec.name)},
       {"containers", Arr({container})},
       {"volumes", Arr({Obj({{"name", Str("config")},
                             {"configMap", Obj({{"name", Str(ConfigMapName(spec.name))}})}}),
                        Obj({{"name", Str("admin")},
                             {"secret", Obj({{"secretName", Str(AdminSecretName(spec.name))},
                                             {"defaultMode", Int(0440)},
                                             {"items", Arr({Obj({{"key", Str("digest")},
                                                                 {"path", Str("digest")}})})}})}}),
                        Obj({{"name", Str("data")},
                             {"persistentVolumeClaim",
                              Obj({{"claimName", Str(MemberClaimName(spec.name, id))}})}}),
                        Obj({{"name", Str("tmp")}, {"emptyDir", Json::object()}})})}});
  if (!spec.pod.node_selector.empty()) pod_spec["nodeSelector"] = StrMap(spec.pod.node_selector);
  if (spec.pod.tolerations) pod_spec["tolerations"] = *spec.pod.tolerations;
  if (!spec.pod.priority_class.empty())
    pod_spec["priorityClassName"] = Str(spec.pod.priority_class);
  if (!spec.pod.service_account.empty())
    pod_spec["serviceAccountName"] = Str(spec.pod.service_account);

  meta["annotations"] = annotations;
  return Obj(
      {{"apiVersion", Str("v1")}, {"kind", Str("Pod")}, {"metadata", meta}, {"spec", pod_spec}});
}

}  // namespace

Json RenderMemberPod(const ClusterSpec& spec, int id) {
  Json pod = MemberPodWithoutHash(spec, id);
  // The hash covers everything a member is rendered from except its id (the same Pod
  // rendered for id 0), so every member of one spec carries the same hash.
  pod["metadata"]["annotations"][kTemplateHashAnnotation] =
      Str(StableHash(MemberPodWithoutHash(spec, 0).serialize()));
  return pod;
}

std::vector<Json> RenderCluster(const ClusterSpec& spec, const std::string& password,
                                const RenderOptions& options) {
  const zk::EnsembleConfig membership = InitialMembership(spec, options);
  std::vector<Json> out = {
      RenderAdminSecret(spec, password), RenderConfigMap(spec, membership),
      RenderHeadlessService(spec),       RenderClientService(spec),
      RenderPodDisruptionBudget(spec),   RenderDiscoveryConfigMap(spec, membership, options)};
  for (const auto& m : membership.members) {
    out.push_back(RenderMemberClaim(spec, m.id));
    out.push_back(RenderMemberPod(spec, m.id));
  }
  return out;
}

std::string StableHash(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  static const char* kHex = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kHex[h & 0xf];
    h >>= 4;
  }
  return out;
}

}  // namespace zkop::op::cluster
