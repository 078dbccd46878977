// Admission: who may call what, how often, and how many streams at once.
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "services/gateway/api/proxy.h"

namespace crm::gateway::api {
namespace {

absl::Status Overloaded() {
  return common::WithReason(absl::ResourceExhaustedError("gateway overloaded, retry later"),
                            "OVERLOADED");
}

}  // namespace

void Proxy::Admit(std::shared_ptr<InboundCall> call, AdmitDone done) {
  MethodRoute route = RouteFor(call->full_method);
  if (!route.known() || route.stub == nullptr) {
    outcome_.unknown_method.Increment();
    done(nullptr, ErrorResult(common::WithReason(
                      absl::UnimplementedError(absl::StrCat("unknown method ", call->full_method)),
                      "ROUTE_NOT_FOUND")));
    return;
  }
  // Most calls need no I/O to be admitted (cached key, leased token): go on
  // from this thread; the rest go to the executor, which may block.
  if (auto fast = access_.AdmitWithoutIo(call->authorization, call->full_method, route.policy)) {
    if (!fast->ok()) {
      (fast->status().code() == absl::StatusCode::kPermissionDenied ? outcome_.forbidden
                                                                    : outcome_.unauthenticated)
          .Increment();
      done(nullptr, ErrorResult(fast->status()));
      return;
    }
    outcome_.admitted.Increment();
    const app::Principal& p = **fast;
    done(&p, ForwardResult{});
    return;
  }
  AdmitOnExecutor(std::move(call), route.policy, std::move(done));
}

void Proxy::AdmitOnExecutor(std::shared_ptr<InboundCall> call, domain::AccessPolicy policy,
                            AdmitDone done) {
  auto shared_done = std::make_shared<AdmitDone>(std::move(done));
  bool queued = executor_.TrySubmit([this, call, policy, shared_done] {
    absl::StatusOr<app::Principal> p = access_.Authenticate(call->authorization);
    absl::Status s = p.status();
    prometheus::Counter* refused = &outcome_.unauthenticated;
    if (s.ok()) {
      s = access_.Authorize(*p, call->full_method, policy);
      refused = &outcome_.forbidden;
    }
    if (s.ok()) {
      s = access_.Admit(*p);
      refused = &outcome_.rate_limited;
    }
    if (!s.ok()) {
      if (s.code() == absl::StatusCode::kUnavailable) refused = &outcome_.unavailable;
      refused->Increment();
      ForwardResult r = ErrorResult(s);
      if (auto retry = s.GetPayload(app::kRetryAfterPayload)) {
        int64_t ms = 0;
        if (absl::SimpleAtoi(std::string(*retry), &ms)) r.retry_after_ms = ms;
      }
      (*shared_done)(nullptr, std::move(r));
      return;
    }
    outcome_.admitted.Increment();
    (*shared_done)(&*p, ForwardResult{});
  });
  if (!queued) {
    outcome_.overloaded.Increment();
    (*shared_done)(nullptr, ErrorResult(Overloaded()));
  }
}

void Proxy::AdmitMessage(const app::Principal& p, std::function<void(absl::Status)> done) {
  if (access_.TakeLeasedToken(p)) {
    done(absl::OkStatus());
    return;
  }
  auto shared_done = std::make_shared<std::function<void(absl::Status)>>(std::move(done));
  bool queued = executor_.TrySubmit([this, p, shared_done] {
    absl::Status s = access_.Admit(p);
    (s.ok() ? outcome_.stream_message : outcome_.stream_message_rate_limited).Increment();
    (*shared_done)(s);
  });
  if (!queued) {
    outcome_.overloaded.Increment();
    (*shared_done)(Overloaded());
  }
}

absl::Status Proxy::AcquireStreamSlot(const std::string& tenant_id) {
  absl::MutexLock l(&streams_mu_);
  int& open = streams_by_tenant_[tenant_id];
  if (open >= max_streams_per_tenant_) {
    if (open == 0) streams_by_tenant_.erase(tenant_id);
    return common::WithReason(
        absl::ResourceExhaustedError(
            absl::StrCat("this tenant already has ", max_streams_per_tenant_,
                         " streaming calls open (the limit); finish one before opening another")),
        "TOO_MANY_STREAMS");
  }
  ++open;
  return absl::OkStatus();
}

void Proxy::ReleaseStreamSlot(const std::string& tenant_id) {
  absl::MutexLock l(&streams_mu_);
  auto it = streams_by_tenant_.find(tenant_id);
  if (it != streams_by_tenant_.end() && --it->second <= 0) streams_by_tenant_.erase(it);
}

}  // namespace crm::gateway::api
