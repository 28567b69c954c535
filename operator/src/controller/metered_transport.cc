// MeteredTransport and ApiVerb (declared in metrics.h).
#include <cctype>
#include <vector>

#include "zkop/operator/controller/metrics.h"

namespace zkop::op {

namespace {

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool QueryHasWatch(std::string_view query) {
  size_t i = 0;
  while (i < query.size()) {
    size_t j = query.find('&', i);
    if (j == std::string_view::npos) j = query.size();
    std::string_view kv = query.substr(i, j - i);
    if (kv == "watch=true" || kv == "watch=1") return true;
    i = j + 1;
  }
  return false;
}

// True when the path names a collection (…/pods) rather than an object (…/pods/x[/status]).
bool IsCollection(const std::vector<std::string_view>& seg) {
  size_t start;
  if (!seg.empty() && seg[0] == "api") {
    start = 2;  // api, v1
  } else if (!seg.empty() && seg[0] == "apis") {
    start = 3;  // apis, group, version
  } else {
    return false;  // /version, /healthz, ...: a plain get
  }
  if (seg.size() > start && seg[start] == "watch") ++start;
  // namespaces/<ns>/<resource>... is namespaced; namespaces[/<name>] is the Namespace kind.
  if (seg.size() >= start + 3 && seg[start] == "namespaces") start += 2;
  return seg.size() == start + 1;
}

}  // namespace

std::string ApiVerb(std::string_view method, std::string_view target, bool streamed) {
  std::string_view path = target, query;
  size_t q = target.find('?');
  if (q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  std::vector<std::string_view> seg = Segments(path);
  if (method == "GET") {
    bool watch_path =
        seg.size() > 2 && (seg[2] == "watch" || (seg.size() > 3 && seg[3] == "watch"));
    if (streamed || QueryHasWatch(query) || watch_path) return "watch";
    return IsCollection(seg) ? "list" : "get";
  }
  if (method == "POST") return "create";
  if (method == "PUT") return "update";
  if (method == "PATCH") return "patch";
  if (method == "DELETE") return "delete";
  std::string lower(method);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

namespace {

class Metered : public kube::Transport {
 public:
  Metered(std::shared_ptr<kube::Transport> inner, OperatorMetrics* metrics)
      : inner_(std::move(inner)), metrics_(metrics) {}

  kube::HttpResponse Send(const kube::HttpRequest& request) override {
    kube::HttpResponse r = inner_->Send(request);
    Count(request, r, false);
    return r;
  }

  kube::HttpResponse Open(const kube::HttpRequest& request,
                          std::unique_ptr<kube::LineStream>* stream) override {
    kube::HttpResponse r = inner_->Open(request, stream);
    Count(request, r, true);
    return r;
  }

 private:
  void Count(const kube::HttpRequest& request, const kube::HttpResponse& r, bool streamed) {
    metrics_->ObserveApiRequest(ApiVerb(request.method, request.target, streamed),
                                r.status > 0 ? std::to_string(r.status) : "error");
  }

  std::shared_ptr<kube::Transport> inner_;
  OperatorMetrics* metrics_;
};

}  // namespace

std::shared_ptr<kube::Transport> MeteredTransport(std::shared_ptr<kube::Transport> inner,
                                                  OperatorMetrics* metrics) {
  return std::make_shared<Metered>(std::move(inner), metrics);
}

}  // namespace zkop::op
