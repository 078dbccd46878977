// The SLA RPCs of ServiceDeskGrpcService and the policy's proto mapping.
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/common/time_zone.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/unary.h"
#include "libs/grpcutil/write_meta.h"
#include "services/service_desk/api/grpc_service.h"

namespace crm::service_desk::api {
namespace {

using grpcutil::Offload;
using grpcutil::RequestContext;

// "HH:MM" in 00:00..24:00 → minutes after midnight.
absl::StatusOr<int> MinuteOf(const std::string& text, const std::string& field) {
  std::optional<int> minute = domain::ParseLocalClock(text);
  if (!minute) {
    return common::InvalidField(
        field,
        absl::StrCat(field, " must be a local time HH:MM from 00:00 to 24:00, not \"", text, "\""));
  }
  return *minute;
}

std::optional<absl::Duration> TargetOf(int64_t seconds) {
  if (seconds == 0) return std::nullopt;
  return absl::Seconds(seconds);
}
int64_t SecondsOf(const std::optional<absl::Duration>& d) {
  return d ? absl::ToInt64Seconds(*d) : 0;
}

// Sets the field `field()` returns only for a finite instant (an unset
// Timestamp stays absent in the answer).
template <typename Field>
void Stamp(const std::optional<absl::Time>& t, Field field) {
  if (t && *t != absl::InfiniteFuture() && *t != absl::InfinitePast()) {
    grpcutil::ToTimestamp(*t, field());
  }
}

}  // namespace

absl::StatusOr<domain::SlaPolicySpec> FromProto(const v1::SlaPolicy& p) {
  domain::SlaPolicySpec spec;
  const v1::BusinessHours& hours = p.hours();
  spec.hours.time_zone = hours.time_zone();
  spec.hours.always_open = hours.always_open();
  if (hours.week_size() > 7) {
    return common::InvalidField("policy.hours.week", "a week has 7 days, Monday first");
  }
  for (int d = 0; d < hours.week_size(); ++d) {
    for (int i = 0; i < hours.week(d).intervals_size(); ++i) {
      const v1::OpeningInterval& in = hours.week(d).intervals(i);
      const std::string field = absl::StrCat("policy.hours.week[", d, "].intervals[", i, "]");
      CRM_ASSIGN_OR_RETURN(int start, MinuteOf(in.start(), field + ".start"));
      CRM_ASSIGN_OR_RETURN(int end, MinuteOf(in.end(), field + ".end"));
      spec.hours.week[static_cast<size_t>(d)].push_back({start, end});
    }
  }
  for (int i = 0; i < hours.holidays_size(); ++i) {
    absl::CivilDay day;
    if (hours.holidays(i).size() != 10 || !absl::ParseCivilTime(hours.holidays(i), &day)) {
      const std::string field = absl::StrCat("policy.hours.holidays[", i, "]");
      return common::InvalidField(field, absl::StrCat(field, " must be a date YYYY-MM-DD"));
    }
    spec.hours.holidays.push_back(day);
  }
  for (const auto& [priority, t] : p.targets_by_priority()) {
    for (int64_t s : {t.first_reply_seconds(), t.next_reply_seconds(), t.periodic_update_seconds(),
                      t.resolution_seconds()}) {
      if (s < 0 || s > 366LL * 24 * 3600) {
        return common::InvalidField(
            "policy.targets_by_priority",
            absl::StrCat("targets of \"", priority, "\" are 0 (none) or 1 s .. 366 days"));
      }
    }
    spec.targets_by_priority[priority] = {
        TargetOf(t.first_reply_seconds()), TargetOf(t.next_reply_seconds()),
        TargetOf(t.periodic_update_seconds()), TargetOf(t.resolution_seconds())};
  }
  for (int s : p.paused_statuses()) {
    if (!v1::TicketStatus_IsValid(s) || s == v1::TICKET_STATUS_UNSPECIFIED) {
      return common::InvalidField("policy.paused_statuses", "unknown ticket status");
    }
    spec.paused_statuses.insert(domain::StatusName(static_cast<domain::TicketStatus>(s)));
  }
  if (p.warn_before_seconds() < 0 || p.warn_before_seconds() > 366LL * 24 * 3600) {
    return common::InvalidField("policy.warn_before_seconds",
                                "warn_before_seconds is 0 (none) or 1 s .. 366 days");
  }
  spec.warn_before = absl::Seconds(p.warn_before_seconds());
  for (int64_t e : p.escalation_seconds()) {
    if (e <= 0 || e > 366LL * 24 * 3600) {
      return common::InvalidField("policy.escalation_seconds",
                                  "each escalation is 1 s .. 366 days after the breach");
    }
    spec.escalations.push_back(absl::Seconds(e));
  }
  return spec;
}

void ToProto(const domain::SlaPolicySpec& p, v1::SlaPolicy* out) {
  v1::BusinessHours* hours = out->mutable_hours();
  hours->set_time_zone(p.hours.time_zone);
  hours->set_always_open(p.hours.always_open);
  for (const auto& day : p.hours.week) {
    v1::BusinessDay* d = hours->add_week();
    for (const domain::LocalInterval& i : day) {
      v1::OpeningInterval* x = d->add_intervals();
      x->set_start(domain::LocalClockText(i.start_minute));
      x->set_end(domain::LocalClockText(i.end_minute));
    }
  }
  for (const absl::CivilDay& day : p.hours.holidays) {
    hours->add_holidays(absl::FormatCivilTime(day));
  }
  for (const auto& [priority, t] : p.targets_by_priority) {
    v1::SlaTargets& x = (*out->mutable_targets_by_priority())[priority];
    x.set_first_reply_seconds(SecondsOf(t.first_reply));
    x.set_next_reply_seconds(SecondsOf(t.next_reply));
    x.set_periodic_update_seconds(SecondsOf(t.periodic_update));
    x.set_resolution_seconds(SecondsOf(t.resolution));
  }
  for (const std::string& s : p.paused_statuses) {
    std::optional<domain::TicketStatus> status = domain::StatusFromName(s);
    if (status) out->add_paused_statuses(static_cast<v1::TicketStatus>(*status));
  }
  out->set_warn_before_seconds(absl::ToInt64Seconds(p.warn_before));
  for (absl::Duration e : p.escalations) out->add_escalation_seconds(absl::ToInt64Seconds(e));
  out->set_etag(absl::StrCat(p.version));
  grpcutil::ToTimestamp(p.update_time, out->mutable_update_time());
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::GetSlaPolicy(grpc::CallbackServerContext* ctx,
                                                               const v1::GetSlaPolicyRequest*,
                                                               v1::SlaPolicy* resp) {
  return Offload(ctx, executor_, metrics_, "GetSlaPolicy", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(domain::SlaPolicySpec p, slas_.GetPolicy(rc.tenant_id));
    ToProto(p, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::UpdateSlaPolicy(
    grpc::CallbackServerContext* ctx, const v1::UpdateSlaPolicyRequest* req, v1::SlaPolicy* resp) {
  return Offload(ctx, executor_, metrics_, "UpdateSlaPolicy", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(domain::SlaPolicySpec spec, FromProto(req->policy()));
    const std::string if_match = req->etag().empty() ? req->policy().etag() : req->etag();
    CRM_ASSIGN_OR_RETURN(
        domain::SlaPolicySpec p,
        slas_.UpdatePolicy(grpcutil::IdempotentWriteMetaOf(rc, "UpdateSlaPolicy", *req),
                           std::move(spec), if_match));
    ToProto(p, resp);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<domain::ConditionalSlaPolicy>> FromProto(const v1::SlaPolicies& p) {
  std::vector<domain::ConditionalSlaPolicy> out;
  for (int i = 0; i < p.policies_size(); ++i) {
    const v1::ConditionalSlaPolicy& in = p.policies(i);
    domain::ConditionalSlaPolicy c;
    c.id = in.id();
    c.name = in.name();
    c.conditions = ConditionsOf(in.conditions());
    absl::StatusOr<domain::SlaPolicySpec> spec = FromProto(in.policy());
    if (!spec.ok()) {
      const std::string named = absl::StrCat("policies[", i, "].", common::FieldOf(spec.status()));
      return common::InvalidField(named, absl::StrCat(named, ": ", spec.status().message()));
    }
    c.policy = *std::move(spec);
    out.push_back(std::move(c));
  }
  return out;
}

void ToProto(const domain::SlaPolicies& p, v1::SlaPolicies* out) {
  for (const domain::ConditionalSlaPolicy& c : p.conditional) {
    v1::ConditionalSlaPolicy* x = out->add_policies();
    x->set_id(c.id);
    x->set_name(c.name);
    ToProto(c.conditions, x->mutable_conditions());
    domain::SlaPolicySpec spec = c.policy;
    spec.version = p.version;
    spec.update_time = p.update_time;
    ToProto(spec, x->mutable_policy());
  }
  out->set_etag(absl::StrCat(p.version));
  if (p.version > 0) grpcutil::ToTimestamp(p.update_time, out->mutable_update_time());
}

namespace {

void ToProto(const domain::MetricReport& m, v1::SlaMetricReport* out) {
  out->set_done(m.done);
  out->set_met(m.met);
  out->set_breached(m.breached);
  if (m.met_percent) out->set_met_percent(*m.met_percent);
  if (m.p50) out->set_p50_seconds(absl::ToDoubleSeconds(*m.p50));
  if (m.p90) out->set_p90_seconds(absl::ToDoubleSeconds(*m.p90));
}

// An instant of the request; absent: InfinitePast (the domain refuses it).
absl::Time InstantOf(bool has, const google::protobuf::Timestamp& ts) {
  return has ? grpcutil::FromTimestamp(ts) : absl::InfinitePast();
}

}  // namespace

grpc::ServerUnaryReactor* ServiceDeskGrpcService::GetSlaReport(grpc::CallbackServerContext* ctx,
                                                               const v1::GetSlaReportRequest* req,
                                                               v1::SlaReport* resp) {
  return Offload(ctx, executor_, metrics_, "GetSlaReport", [=](const RequestContext& rc) {
    domain::SlaReportQuery q;
    q.from = InstantOf(req->has_start_time(), req->start_time());
    q.to = InstantOf(req->has_end_time(), req->end_time());
    q.queue = req->queue();
    CRM_ASSIGN_OR_RETURN(domain::SlaReport r, slas_.Report(rc.tenant_id, q));
    *resp->mutable_start_time() = req->start_time();
    *resp->mutable_end_time() = req->end_time();
    resp->set_queue(q.queue);
    resp->set_tickets(r.tickets);
    resp->set_under_sla(r.under_sla);
    ToProto(r.first_reply, resp->mutable_first_reply());
    ToProto(r.resolution, resp->mutable_resolution());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::GetSlaPolicies(grpc::CallbackServerContext* ctx,
                                                                 const v1::GetSlaPoliciesRequest*,
                                                                 v1::SlaPolicies* resp) {
  return Offload(ctx, executor_, metrics_, "GetSlaPolicies", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(domain::SlaPolicies p, slas_.GetPolicies(rc.tenant_id));
    ToProto(p, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::UpdateSlaPolicies(
    grpc::CallbackServerContext* ctx, const v1::UpdateSlaPoliciesRequest* req,
    v1::SlaPolicies* resp) {
  return Offload(ctx, executor_, metrics_, "UpdateSlaPolicies", [=](const RequestContext& rc) {
    CRM_ASSIGN_OR_RETURN(std::vector<domain::ConditionalSlaPolicy> list,
                         FromProto(req->policies()));
    const std::string if_match = req->etag().empty() ? req->policies().etag() : req->etag();
    CRM_ASSIGN_OR_RETURN(
        domain::SlaPolicies p,
        slas_.UpdatePolicies(grpcutil::IdempotentWriteMetaOf(rc, "UpdateSlaPolicies", *req),
                             std::move(list), if_match));
    ToProto(p, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ServiceDeskGrpcService::GetTicketSla(grpc::CallbackServerContext* ctx,
                                                               const v1::GetTicketSlaRequest* req,
                                                               v1::TicketSla* resp) {
  return Offload(ctx, executor_, metrics_, "GetTicketSla", [=](const RequestContext& rc) {
    // Instants are UTC; the viewer's zone adds their local times.
    absl::TimeZone zone = absl::UTCTimeZone();
    if (!req->time_zone().empty() && !common::LoadZone(req->time_zone(), &zone)) {
      return common::InvalidField(
          "time_zone", absl::StrCat("time_zone: unknown IANA time zone \"", req->time_zone(),
                                    "\" (e.g. Europe/Berlin, Asia/Seoul)"));
    }
    const auto local = [&zone](const std::optional<absl::Time>& t) {
      return t ? absl::FormatTime("%Y-%m-%dT%H:%M:%E*S%Ez", *t, zone) : std::string();
    };
    CRM_ASSIGN_OR_RETURN(app::TicketSla sla, slas_.ForTicket(rc.tenant_id, req->ticket_id()));
    resp->set_ticket_id(req->ticket_id());
    resp->set_time_zone(req->time_zone().empty() ? "UTC" : req->time_zone());
    resp->set_next_due_local(local(sla.next_due));
    if (sla.policy_version > 0) resp->set_policy_etag(absl::StrCat(sla.policy_version));
    resp->set_policy(sla.policy);
    for (const domain::MetricState& m : sla.metrics) {
      v1::SlaMetricState* x = resp->add_metrics();
      x->set_metric(static_cast<v1::SlaMetric>(static_cast<int>(m.metric) + 1));
      x->set_active(m.active);
      x->set_paused(m.paused);
      Stamp(m.deadline, [&] { return x->mutable_deadline(); });
      x->set_deadline_local(local(m.deadline));
      Stamp(m.warn_at, [&] { return x->mutable_warn_time(); });
      Stamp(m.fulfilled_at, [&] { return x->mutable_fulfill_time(); });
      Stamp(m.breached_at, [&] { return x->mutable_breach_time(); });
      x->set_escalation_level(m.escalation_level);
      Stamp(m.next_escalation_at, [&] { return x->mutable_next_escalation_time(); });
      x->set_elapsed_seconds(absl::ToInt64Seconds(m.elapsed));
      x->set_target_seconds(absl::ToInt64Seconds(m.target));
    }
    Stamp(sla.next_due, [&] { return resp->mutable_next_due_time(); });
    grpcutil::ToTimestamp(sla.evaluated_at, resp->mutable_evaluate_time());
    return absl::OkStatus();
  });
}

}  // namespace crm::service_desk::api
