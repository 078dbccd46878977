#include "services/gateway/api/call_metadata.h"

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/common/id.h"
#include "libs/grpcutil/end_of_call.h"
#include "libs/observability/log.h"
#include "services/gateway/domain/permissions.h"

namespace crm::gateway::api {
namespace {

absl::Time FromChrono(std::chrono::system_clock::time_point t) {
  return absl::FromUnixMicros(
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

}  // namespace

std::chrono::system_clock::time_point ToChrono(absl::Time t) {
  return std::chrono::system_clock::from_time_t(0) +
         std::chrono::microseconds(absl::ToUnixMicros(t));
}

std::string RequestIdFrom(absl::string_view v) {
  bool ok = !v.empty() && v.size() <= 128;
  for (char c : v) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      ok = false;
    }
  }
  return ok ? std::string(v) : common::NewUuid();
}

std::string TraceparentFrom(absl::string_view v) {
  if (v.size() == 55 && !grpcutil::TraceIdOf(std::string_view(v.data(), v.size())).empty()) {
    return std::string(v);
  }
  // Trace and span ids need to be unique, not secret: a per-thread
  // generator, not the system CSPRNG (whose fork check costs a getpid()
  // system call per draw). The trace id is never all zeros (hi >= 1).
  thread_local absl::BitGen gen;
  uint64_t hi = absl::Uniform<uint64_t>(absl::IntervalClosed, gen, 1, UINT64_MAX);
  uint64_t lo = absl::Uniform<uint64_t>(gen);
  uint64_t span = absl::Uniform<uint64_t>(absl::IntervalClosed, gen, 1, UINT64_MAX);
  return absl::StrFormat("00-%016x%016x-%016x-01", hi, lo, span);
}

std::shared_ptr<InboundCall> InboundCallFrom(const grpc::GenericCallbackServerContext& ctx,
                                             bool upload) {
  auto call = std::make_shared<InboundCall>();
  call->full_method = ctx.method();
  const auto& md = ctx.client_metadata();
  auto get = [&](const char* k) {
    auto it = md.find(k);
    return it == md.end() ? absl::string_view()
                          : absl::string_view(it->second.data(), it->second.size());
  };
  call->authorization = std::string(get("authorization"));
  call->request_id = RequestIdFrom(get(grpcutil::kRequestIdHeader));
  call->traceparent = TraceparentFrom(get(grpcutil::kTraceparentHeader));
  call->deadline = FromChrono(ctx.deadline());
  call->upload = upload;
  return call;
}

grpcutil::RequestContext BackendContext(const InboundCall& call, const app::Principal& principal) {
  grpcutil::RequestContext rc;
  rc.tenant_id = principal.tenant_id;
  rc.principal = principal.key_id;
  rc.roles = domain::RolesHeader(principal.roles);
  rc.request_id = call.request_id;
  rc.traceparent = call.traceparent;
  return rc;
}

void LogAccess(const char* transport, absl::string_view what, absl::string_view code,
               absl::Duration latency, const InboundCall& call, const ForwardResult& r) {
  auto line = CRM_LOG(Info);
  line.Field("transport", transport)
      .Field("rpc", std::string_view(what.data(), what.size()))
      .Field("code", std::string_view(code.data(), code.size()))
      .Field("latency_ms", absl::ToDoubleMilliseconds(latency))
      .Field("request_id", call.request_id)
      .Field("trace_id", grpcutil::TraceIdOf(std::string_view(call.traceparent)));
  if (!r.tenant_id.empty()) line.Field("tenant_id", r.tenant_id);
  if (!r.principal.empty()) line.Field("principal", r.principal);
  if (!r.reason.empty()) line.Field("reason", r.reason);
  line << "access";
}

grpc::Status EndProxiedCall(grpc::CallbackServerContext* ctx, grpcutil::RpcMetrics& metrics,
                            const char* method, absl::Time start, const InboundCall& call,
                            const ForwardResult& r) {
  if (r.retry_after_ms > 0) {
    ctx->AddTrailingMetadata("retry-after-ms", absl::StrCat(r.retry_after_ms));
  }
  // What the access-log line names (the backend got the sealed context).
  grpcutil::RequestContext rc;
  rc.tenant_id = r.tenant_id;
  rc.principal = r.principal;
  rc.request_id = call.request_id;
  rc.trace_id = grpcutil::TraceIdOf(std::string_view(call.traceparent));
  return grpcutil::EndOfCall(ctx, metrics, method, rc, start, r.status, r.reason);
}

}  // namespace crm::gateway::api
