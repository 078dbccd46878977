#include "services/customer_store/api/proto_mapping.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/rpc_metrics.h"

namespace crm::customer_store::api {
namespace {

using google::protobuf::Timestamp;

using grpcutil::FromTimestamp;
using grpcutil::ToTimestamp;

absl::StatusOr<absl::Time> CheckedTs(const Timestamp& t, const char* field) {
  if (t.seconds() < -62135596800LL || t.seconds() > 253402300799LL || t.nanos() < 0 ||
      t.nanos() > 999999999) {
    return common::InvalidField(field, absl::StrCat(field, " is not a valid timestamp"));
  }
  return FromTimestamp(t);
}

domain::Date FromProto(const common::v1::Date& d) { return {d.year(), d.month(), d.day()}; }
void ToProto(const domain::Date& d, common::v1::Date* p) {
  p->set_year(d.year);
  p->set_month(d.month);
  p->set_day(d.day);
}

}  // namespace

absl::StatusOr<domain::Customer> FromProto(const v1::Customer& p) {
  domain::Customer c;
  c.given_name = p.given_name();
  c.family_name = p.family_name();
  c.display_name = p.display_name();
  c.emails.assign(p.emails().begin(), p.emails().end());
  c.phones.assign(p.phones().begin(), p.phones().end());
  for (const auto& x : p.external_ids()) c.external_ids.push_back({x.source(), x.value()});
  if (p.has_postal_address()) {
    const auto& a = p.postal_address();
    c.postal_address = domain::PostalAddress{{a.lines().begin(), a.lines().end()},
                                             a.locality(),
                                             a.region(),
                                             a.postal_code(),
                                             a.country_code()};
  }
  if (p.has_birthday()) c.birthday = FromProto(p.birthday());
  for (const auto& a : p.anniversaries()) c.anniversaries.push_back({a.label(), FromProto(a.date())});
  c.locale = p.locale();
  c.time_zone = p.time_zone();
  if (!v1::LifecycleStage_IsValid(p.lifecycle_stage())) {
    return common::InvalidField("lifecycle_stage", "unknown lifecycle_stage");
  }
  c.lifecycle_stage = static_cast<domain::LifecycleStage>(p.lifecycle_stage());
  c.owner = p.owner();
  for (const auto& [k, v] : p.attributes()) {
    std::string field = absl::StrCat("attributes.", k);
    switch (v.value_case()) {
      case v1::AttributeValue::kStringValue:
        c.attributes[k] = v.string_value();
        break;
      case v1::AttributeValue::kIntValue:
        c.attributes[k] = static_cast<int64_t>(v.int_value());
        break;
      case v1::AttributeValue::kDoubleValue:
        c.attributes[k] = v.double_value();
        break;
      case v1::AttributeValue::kBoolValue:
        c.attributes[k] = v.bool_value();
        break;
      case v1::AttributeValue::kTimeValue: {
        CRM_ASSIGN_OR_RETURN(absl::Time t, CheckedTs(v.time_value(), "attributes"));
        c.attributes[k] = t;
        break;
      }
      default:
        return common::InvalidField(field, absl::StrCat(field, " has no value"));
    }
  }
  return c;
}

void ToProto(const domain::Customer& c, v1::Customer* p) {
  p->set_id(c.id);
  p->set_given_name(c.given_name);
  p->set_family_name(c.family_name);
  p->set_display_name(c.display_name);
  for (const auto& e : c.emails) p->add_emails(e);
  for (const auto& ph : c.phones) p->add_phones(ph);
  for (const auto& x : c.external_ids) {
    auto* e = p->add_external_ids();
    e->set_source(x.source);
    e->set_value(x.value);
  }
  if (c.postal_address) {
    auto* a = p->mutable_postal_address();
    for (const auto& l : c.postal_address->lines) a->add_lines(l);
    a->set_locality(c.postal_address->locality);
    a->set_region(c.postal_address->region);
    a->set_postal_code(c.postal_address->postal_code);
    a->set_country_code(c.postal_address->country_code);
  }
  if (c.birthday) ToProto(*c.birthday, p->mutable_birthday());
  for (const auto& a : c.anniversaries) {
    auto* x = p->add_anniversaries();
    x->set_label(a.label);
    ToProto(a.date, x->mutable_date());
  }
  p->set_locale(c.locale);
  p->set_time_zone(c.time_zone);
  p->set_lifecycle_stage(static_cast<v1::LifecycleStage>(c.lifecycle_stage));
  p->set_owner(c.owner);
  auto& attrs = *p->mutable_attributes();
  for (const auto& [k, v] : c.attributes) {
    v1::AttributeValue& out = attrs[k];
    if (const auto* s = std::get_if<std::string>(&v)) {
      out.set_string_value(*s);
    } else if (const auto* i = std::get_if<int64_t>(&v)) {
      out.set_int_value(*i);
    } else if (const auto* d = std::get_if<double>(&v)) {
      out.set_double_value(*d);
    } else if (const auto* b = std::get_if<bool>(&v)) {
      out.set_bool_value(*b);
    } else if (const auto* t = std::get_if<absl::Time>(&v)) {
      ToTimestamp(*t, out.mutable_time_value());
    }
  }
  p->set_etag(domain::EtagOf(c));
  ToTimestamp(c.create_time, p->mutable_create_time());
  ToTimestamp(c.update_time, p->mutable_update_time());
}

std::vector<std::string> PresentPaths(const v1::Customer& p) {
  std::vector<std::string> paths;
  auto add_if = [&](bool present, const char* name) {
    if (present) paths.emplace_back(name);
  };
  add_if(!p.given_name().empty(), "given_name");
  add_if(!p.family_name().empty(), "family_name");
  add_if(!p.display_name().empty(), "display_name");
  add_if(p.emails_size() > 0, "emails");
  add_if(p.phones_size() > 0, "phones");
  add_if(p.external_ids_size() > 0, "external_ids");
  add_if(p.has_postal_address(), "postal_address");
  add_if(p.has_birthday(), "birthday");
  add_if(p.anniversaries_size() > 0, "anniversaries");
  add_if(!p.locale().empty(), "locale");
  add_if(!p.time_zone().empty(), "time_zone");
  add_if(p.lifecycle_stage() != 0, "lifecycle_stage");
  add_if(!p.owner().empty(), "owner");
  for (const auto& [k, v] : p.attributes()) paths.push_back(absl::StrCat("attributes.", k));
  return paths;
}

absl::StatusOr<std::vector<std::string>> MaskPaths(const google::protobuf::FieldMask& mask) {
  return std::vector<std::string>(mask.paths().begin(), mask.paths().end());
}

absl::StatusOr<domain::Consent> FromProto(const v1::Consent& p) {
  domain::Consent c;
  c.channel = static_cast<domain::ConsentChannel>(p.channel());
  c.purpose = static_cast<domain::ConsentPurpose>(p.purpose());
  c.status = static_cast<domain::ConsentStatus>(p.status());
  c.source = p.source();
  c.policy_version = p.policy_version();
  if (p.has_record_time()) {
    CRM_ASSIGN_OR_RETURN(c.record_time, CheckedTs(p.record_time(), "consent.record_time"));
  }
  return c;
}

void ToProto(const domain::Consent& c, v1::Consent* p) {
  p->set_channel(static_cast<v1::ConsentChannel>(c.channel));
  p->set_purpose(static_cast<v1::ConsentPurpose>(c.purpose));
  p->set_status(static_cast<v1::ConsentStatus>(c.status));
  p->set_source(c.source);
  p->set_policy_version(c.policy_version);
  ToTimestamp(c.record_time, p->mutable_record_time());
}

absl::StatusOr<domain::Interaction> FromProto(const v1::Interaction& p) {
  domain::Interaction i;
  i.kind = static_cast<domain::InteractionKind>(p.kind());
  i.channel = p.channel();
  i.actor = p.actor();
  i.summary = p.summary();
  i.source = p.source();
  if (p.has_occur_time()) {
    CRM_ASSIGN_OR_RETURN(i.occur_time, CheckedTs(p.occur_time(), "interaction.occur_time"));
  }
  if (p.has_payload()) {
    std::string json;
    if (!google::protobuf::util::MessageToJsonString(p.payload(), &json).ok()) {
      return common::InvalidField("interaction.payload", "interaction.payload is not valid");
    }
    i.payload_json = json;
  }
  return i;
}

void ToProto(const domain::Interaction& i, v1::Interaction* p) {
  p->set_id(i.id);
  p->set_kind(static_cast<v1::InteractionKind>(i.kind));
  p->set_channel(i.channel);
  ToTimestamp(i.occur_time, p->mutable_occur_time());
  p->set_actor(i.actor);
  p->set_summary(i.summary);
  p->set_source(i.source);
  if (!i.payload_json.empty() && i.payload_json != "{}") {
    // Stored by us from a Struct, so it parses; a failure leaves it empty.
    (void)google::protobuf::util::JsonStringToMessage(i.payload_json, p->mutable_payload());
  }
}

void ToProto(const domain::Identity& i, v1::Identity* p) {
  p->set_kind(static_cast<v1::IdentityKind>(i.kind));
  p->set_value(i.value);
  p->set_source(i.source);
  ToTimestamp(i.create_time, p->mutable_create_time());
}

void ToProto(const domain::CustomerView& v, v1::CustomerView* p) {
  ToProto(v.customer, p->mutable_customer());
  for (const auto& i : v.identities) ToProto(i, p->add_identities());
  for (const auto& c : v.consents) ToProto(c, p->add_consents());
  for (const auto& i : v.recent_interactions) ToProto(i, p->add_recent_interactions());
  p->set_interaction_count(v.interaction_count);
  for (const char* name : {"profile", "identities", "consents", "timeline"}) {
    auto* s = p->add_sections();
    s->set_name(name);
    s->set_owner("customer-store");
    s->set_available(true);
  }
  // Projected from the transaction engine's order events.
  auto* purchases = p->add_sections();
  purchases->set_name("purchases");
  purchases->set_owner("transaction");
  purchases->set_available(true);
  for (const auto& a : v.purchases) {
    auto* x = p->add_purchases();
    x->set_currency_code(a.currency_code);
    x->set_order_count(a.order_count);
    x->set_purchase_days(a.purchase_days);
    x->set_total_spend_minor(a.total_spend_minor);
    x->set_average_order_minor(a.average_order_minor);
    x->set_cancelled_orders(a.cancelled_orders);
    x->set_gross_spend_minor(a.gross_spend_minor);
    x->set_returned_minor(a.returned_minor);
    x->set_returned_orders(a.returned_orders);
    if (a.first_purchase != absl::InfinitePast()) {
      ToTimestamp(a.first_purchase, x->mutable_first_purchase_time());
    }
    if (a.last_purchase != absl::InfinitePast()) {
      ToTimestamp(a.last_purchase, x->mutable_last_purchase_time());
    }
  }
  auto* behaviour = p->add_sections();
  behaviour->set_name("sessions");
  behaviour->set_owner("customer-store");
  behaviour->set_available(true);
  for (const auto& s : v.recent_sessions) ToProto(s, p->add_recent_sessions());
  ToTimestamp(absl::Now(), p->mutable_view_time());
}

void ToProto(const domain::ViewInsights& v, v1::CustomerView* p) {
  if (v.scores) {
    const domain::CustomerScores& s = *v.scores;
    v1::ViewScores* x = p->mutable_scores();
    x->set_as_of(s.as_of);
    x->set_currency_code(s.currency_code);
    x->set_orders(s.orders);
    x->set_monetary(s.monetary);
    x->set_last_purchase(s.last_purchase);
    if (s.rfm) {
      v1::ViewRfmScore* r = x->mutable_rfm();
      r->set_recency(s.rfm->recency);
      r->set_frequency(s.rfm->frequency);
      r->set_monetary(s.rfm->monetary);
      r->set_score(s.rfm->score);
      r->set_segment(s.rfm->segment);
    }
    x->set_has_model_scores(s.has_model_scores);
    x->set_model_absent_reason(s.model_absent_reason);
    if (s.has_model_scores) {
      x->set_p_alive(s.p_alive);
      x->set_churn_risk(s.churn_risk);
      x->set_horizon(s.horizon);
      x->set_expected_purchases(s.expected_purchases);
      x->set_expected_spend(s.expected_spend);
      x->set_clv(s.clv);
    }
  }
  if (v.segments) {
    v1::ViewSegments* x = p->mutable_segments();
    for (const domain::SegmentMembership& m : *v.segments) {
      v1::ViewSegmentMembership* y = x->add_segments();
      y->set_segment_id(m.segment_id);
      y->set_display_name(m.display_name);
      if (m.enter_time != absl::InfinitePast()) ToTimestamp(m.enter_time, y->mutable_enter_time());
    }
  }
  for (const domain::SectionState& s : v.sections) {
    v1::ViewSection* x = p->add_sections();
    x->set_name(s.name);
    x->set_owner(s.owner);
    x->set_available(!s.unavailable.has_value());
    if (s.unavailable) {
      v1::SectionStatus* st = x->mutable_status();
      st->set_code(grpcutil::CodeName(static_cast<grpc::StatusCode>(s.unavailable->code)));
      st->set_reason(s.unavailable->reason);
      st->set_message(s.unavailable->message);
      st->set_retryable(s.unavailable->retryable);
    }
  }
}

void ToProto(const domain::CustomerExport& e, v1::CustomerExport* p) {
  ToProto(e.customer, p->mutable_customer());
  for (const auto& i : e.identities) ToProto(i, p->add_identities());
  for (const auto& c : e.consent_history) ToProto(c, p->add_consent_history());
  for (const auto& i : e.interactions) ToProto(i, p->add_interactions());
  for (const auto& b : e.behaviour_events) ToProto(b, p->add_behaviour_events());
  ToTimestamp(absl::Now(), p->mutable_export_time());
}

namespace {

void ToProto(const domain::BehaviourProperties& d, v1::BehaviourProperties* p) {
  p->set_url(d.url);
  p->set_path(d.path);
  p->set_referrer(d.referrer);
  p->set_title(d.title);
  p->set_sku(d.sku);
  for (const auto& c : d.category_path) p->add_category_path(c);
  p->set_search_query(d.search_query);
  p->set_utm_source(d.utm_source);
  p->set_utm_medium(d.utm_medium);
  p->set_utm_campaign(d.utm_campaign);
  p->set_utm_term(d.utm_term);
  p->set_utm_content(d.utm_content);
  p->set_value(d.value);
  p->set_currency_code(d.currency_code);
  p->set_quantity(d.quantity);
  for (const auto& [k, v] : d.custom) (*p->mutable_custom())[k] = v;
}

}  // namespace

void ToProto(const domain::BehaviourSession& s, v1::BehaviourSession* x) {
  ToTimestamp(s.start, x->mutable_start_time());
  ToTimestamp(s.end, x->mutable_end_time());
  x->set_event_count(s.event_count);
  x->set_page_views(s.page_views);
  x->set_product_views(s.product_views);
  x->set_searches(s.searches);
  x->set_cart_adds(s.cart_adds);
  x->set_checkout_started(s.checkout_started);
  x->set_landing_path(s.landing_path);
  x->set_visitor_id(s.visitor_id);
  x->set_device_class(static_cast<v1::DeviceClass>(s.device_class));
  x->set_utm_campaign(s.utm_campaign);
}

absl::StatusOr<app::VisitQuery> FromProto(const v1::GetVisitRequest& p) {
  app::VisitQuery q;
  q.visitor_id = p.visitor_id();
  q.customer_id = p.customer_id();
  if (p.has_at()) {
    CRM_ASSIGN_OR_RETURN(q.at, CheckedTs(p.at(), "at"));
  }
  q.event_limit = p.event_limit();
  return q;
}

void ToProto(const domain::Visit& v, v1::Visit* p) {
  p->set_found(v.found);
  if (!v.found) return;
  ToProto(v.session, p->mutable_session());
  for (const domain::BehaviourEvent& e : v.events) {
    v1::VisitEvent* x = p->add_events();
    x->set_event_id(e.id);
    x->set_type(e.type);
    ToTimestamp(e.occur_time, x->mutable_occur_time());
    ToProto(e.properties, x->mutable_properties());
    x->set_customer_id(e.customer_id);
  }
  p->set_partial(v.partial);
}

void ToProto(const domain::BehaviourEvent& e, v1::BehaviourEvent* p) {
  p->set_event_id(e.id);
  p->set_type(e.type);
  ToTimestamp(e.occur_time, p->mutable_occur_time());
  if (e.receive_time != absl::InfinitePast()) {
    ToTimestamp(e.receive_time, p->mutable_receive_time());
  }
  p->set_customer_id(e.customer_id);
  p->set_visitor_id(e.visitor_id);
  ToProto(e.properties, p->mutable_properties());
  p->set_ip_prefix(e.ip_prefix);
  p->set_device_class(static_cast<v1::DeviceClass>(e.device_class));
}

domain::BehaviourInput FromProto(const v1::BehaviourEvent& p) {
  domain::BehaviourInput in;
  in.type = p.type();
  if (p.has_occur_time()) {
    // A timestamp outside the valid range is refused with the event
    // (EVENT_TIME_OUT_OF_RANGE), not with the batch.
    absl::StatusOr<absl::Time> t = CheckedTs(p.occur_time(), "occur_time");
    in.occur_time = t.ok() ? *t : absl::InfiniteFuture();
  }
  in.customer_id = p.customer_id();
  in.email = p.email();
  in.external_id_source = p.external_id_source();
  in.external_id = p.external_id();
  in.visitor_id = p.visitor_id();
  const v1::BehaviourProperties& q = p.properties();
  domain::BehaviourProperties& d = in.properties;
  d.url = q.url();
  d.path = q.path();
  d.referrer = q.referrer();
  d.title = q.title();
  d.sku = q.sku();
  d.category_path.assign(q.category_path().begin(), q.category_path().end());
  d.search_query = q.search_query();
  d.utm_source = q.utm_source();
  d.utm_medium = q.utm_medium();
  d.utm_campaign = q.utm_campaign();
  d.utm_term = q.utm_term();
  d.utm_content = q.utm_content();
  d.value = q.value();
  d.currency_code = q.currency_code();
  d.quantity = q.quantity();
  for (const auto& [k, v] : q.custom()) d.custom[k] = v;
  in.ip = p.context().ip();
  in.user_agent = p.context().user_agent();
  return in;
}

void ToProto(const app::TrackOutcome& o, v1::TrackEventsResponse* p) {
  for (const app::TrackResult& r : o.results) {
    auto* x = p->add_results();
    x->set_index(r.index);
    x->set_outcome(r.accepted ? v1::TrackEventResult::OUTCOME_ACCEPTED
                              : v1::TrackEventResult::OUTCOME_REFUSED);
    x->set_event_id(r.event_id);
    x->set_customer_id(r.customer_id);
    x->set_reason(r.reason);
    x->set_field(r.field);
    x->set_message(r.message);
  }
  p->set_accepted(o.accepted);
  p->set_refused(o.refused);
}

}  // namespace crm::customer_store::api

namespace crm::customer_store::api {

void ToProto(const app::ImportReport& r, v1::ImportCustomersResponse* p) {
  p->set_batch_id(r.batch_id);
  p->set_rows_received(r.rows_received);
  p->set_created(r.created);
  p->set_updated(r.updated);
  p->set_failed(r.failed);
  p->set_replayed(r.replayed);
  for (const auto& e : r.errors) {
    auto* x = p->add_errors();
    x->set_line(e.line);
    x->set_field(e.field);
    x->set_reason(e.reason);
    x->set_message(e.message);
  }
}

app::ImportInputRow FromProto(const v1::ImportRow& row) {
  app::ImportInputRow in;
  in.line = row.line();
  in.customer = FromProto(row.customer());
  in.present_paths = PresentPaths(row.customer());
  return in;
}

std::vector<app::ImportInputRow> ParseNdjson(const std::string& body) {
  std::vector<app::ImportInputRow> rows;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  size_t start = 0;
  int64_t line = 0;
  while (start <= body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string::npos) end = body.size();
    ++line;
    absl::string_view text(body.data() + start, end - start);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    start = end + 1;
    if (absl::StripAsciiWhitespace(text).empty()) {
      if (end == body.size()) break;
      continue;
    }
    v1::Customer proto;
    app::ImportInputRow in;
    in.line = line;
    auto parsed = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(text.data(), text.size()), &proto, options);
    if (!parsed.ok()) {
      std::string detail(parsed.message());
      in.customer = common::WithReason(
          absl::InvalidArgumentError(absl::StrCat("line is not a Customer JSON object: ", detail)),
          detail.find("Cannot find field") != std::string::npos ? "UNKNOWN_FIELD"
                                                                : "MALFORMED_BODY");
    } else {
      in.customer = FromProto(proto);
      in.present_paths = PresentPaths(proto);
    }
    rows.push_back(std::move(in));
    if (end == body.size()) break;
  }
  return rows;
}

}  // namespace crm::customer_store::api
