#include "services/gateway/api/method_table.h"

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "crm/common/v1/access.pb.h"

namespace crm::gateway::api {
namespace {

// "/pkg.Service/Method" -> "pkg.Service" ("" when malformed).
absl::string_view ServiceOf(absl::string_view full_method) {
  if (full_method.empty() || full_method[0] != '/') return {};
  size_t slash = full_method.find('/', 1);
  if (slash == absl::string_view::npos) return {};
  return full_method.substr(1, slash - 1);
}

MethodKind KindOfDescriptor(const google::protobuf::MethodDescriptor& m) {
  if (m.client_streaming()) {
    return m.server_streaming() ? MethodKind::kBidiStreaming : MethodKind::kClientStreaming;
  }
  return m.server_streaming() ? MethodKind::kServerStreaming : MethodKind::kUnary;
}

// The linked descriptor of "/pkg.Service/Method" (nullptr when none).
const google::protobuf::MethodDescriptor* MethodOf(absl::string_view full_method) {
  std::string name(full_method.substr(full_method.empty() ? 0 : 1));
  std::replace(name.begin(), name.end(), '/', '.');
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(name);
}

}  // namespace

MethodKind KindOf(absl::string_view full_method) {
  const auto* m = MethodOf(full_method);
  return m == nullptr ? MethodKind::kUnknown : KindOfDescriptor(*m);
}

domain::AccessPolicy PolicyOf(const google::protobuf::MethodDescriptor& method) {
  return domain::AccessPolicyFromNumber(
      method.options().GetExtension(crm::common::v1::access_policy));
}

void MethodTable::AddService(const std::string& service_full_name, grpc::GenericStub* stub) {
  services_[service_full_name] = stub;
  const auto* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service_full_name);
  if (service == nullptr) return;  // resolved per call by Find's fallback
  for (int i = 0; i < service->method_count(); ++i) {
    const auto* m = service->method(i);
    std::string full_method = absl::StrCat("/", service_full_name, "/", m->name());
    MethodRoute route;
    route.stub = stub;
    route.kind = KindOfDescriptor(*m);
    route.policy = PolicyOf(*m);
    auto it = methods_.insert_or_assign(std::move(full_method), route).first;
    it->second.name = it->first.c_str();  // map keys do not move
  }
}

MethodRoute MethodTable::Find(absl::string_view full_method) const {
  if (auto it = methods_.find(full_method); it != methods_.end()) return it->second;
  MethodRoute route;
  auto s = services_.find(ServiceOf(full_method));
  route.stub = s == services_.end() ? nullptr : s->second;
  if (const auto* m = MethodOf(full_method)) {
    route.kind = KindOfDescriptor(*m);
    route.policy = PolicyOf(*m);
  }
  return route;
}

}  // namespace crm::gateway::api
