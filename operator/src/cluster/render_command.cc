// `zkop-operator render -f cluster.yaml`: the objects a new cluster of that spec gets, as
// multi-document YAML, for review and GitOps.
#include "zkop/operator/cluster/render_command.h"

#include <boost/program_options.hpp>
#include <iostream>

#include "zkop/kube/manifest.h"
#include "zkop/operator/cluster/render.h"
#include "zkop/operator/cluster/spec.h"

namespace zkop::op::cluster {
namespace {

namespace po = boost::program_options;

}  // namespace

int RunRender(int argc, char** argv, std::ostream& out, std::ostream& err) {
  po::options_description options("render options");
  std::string file;
  std::string ns;
  std::string domain;
  options.add_options()("help,h", "show this help")(
      "filename,f", po::value(&file)->value_name("FILE"),
      "ZookeeperCluster manifest (YAML; '-' for standard input)")(
      "namespace,n", po::value(&ns)->value_name("NS"),
      "namespace of clusters that do not name one (default \"default\")")(
      "cluster-domain", po::value(&domain)->default_value("cluster.local")->value_name("DOMAIN"),
      "the cluster's DNS domain (member and Service names end in svc.<domain>)");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    err << "zkop-operator render: " << e.what() << "\n" << options;
    return 2;
  }
  if (vm.count("help")) {
    out << "Usage: zkop-operator render -f cluster.yaml\n\n"
           "Prints, as multi-document YAML, the objects zkop-operator creates for a new\n"
           "cluster of that spec. The admin password in the Secret is freshly generated;\n"
           "ownerReferences are left out (they need the uid the cluster gets when created).\n\n"
        << options;
    return 0;
  }
  if (file.empty()) {
    err << "zkop-operator render: -f FILE is required (a ZookeeperCluster manifest)\n";
    return 2;
  }
  std::vector<Json> docs;
  try {
    docs = kube::LoadManifestFile(file);
  } catch (const kube::ManifestError& e) {
    err << "zkop-operator render: " << e.what() << "\n";
    return 1;
  }
  RenderOptions render;
  render.cluster_domain = domain;
  int clusters = 0;
  int status = 0;
  bool first = true;
  for (size_t i = 0; i < docs.size(); ++i) {
    Json& doc = docs[i];
    const std::string where = file + " (document " + std::to_string(i + 1) + ")";
    const std::string kind =
        doc.has_field("kind") && doc.at("kind").is_string() ? doc.at("kind").as_string() : "";
    if (kind != kKind) {
      err << "zkop-operator render: " << where << ": kind is \"" << kind
          << "\", expected ZookeeperCluster; skipped\n";
      continue;
    }
    if (!doc.has_field("metadata") || !doc.at("metadata").is_object())
      doc["metadata"] = Json::object();
    if (!doc.at("metadata").has_field("namespace"))
      doc["metadata"]["namespace"] = Json::string(ns.empty() ? "default" : ns);
    const ParsedCluster parsed = ParseCluster(doc);
    for (const auto& w : parsed.warnings)
      err << "zkop-operator render: " << where << ": warning: " << w.field << ": " << w.message
          << "\n";
    if (!parsed.ok()) {
      for (const auto& e : parsed.errors)
        err << "zkop-operator render: " << where << ": " << e.field << ": " << e.message << "\n";
      status = 1;
      continue;
    }
    ++clusters;
    for (Json object : RenderCluster(parsed.spec, NewAdminPassword(), render)) {
      if (parsed.spec.uid.empty() && object.at("metadata").has_field("ownerReferences"))
        object["metadata"].erase("ownerReferences");
      out << (first ? "" : "---\n") << kube::ToYaml(object);
      first = false;
    }
  }
  if (clusters == 0 && status == 0) {
    err << "zkop-operator render: " << file << ": no ZookeeperCluster found\n";
    return 1;
  }
  return status;
}

}  // namespace zkop::op::cluster
