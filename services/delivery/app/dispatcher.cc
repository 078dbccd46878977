#include "services/delivery/app/dispatcher.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"
#include "libs/common/tracking_token.h"
#include "services/delivery/domain/email.h"
#include "services/delivery/domain/providers.h"
#include "services/delivery/domain/tracking.h"

namespace crm::delivery::app {
namespace {

std::string PeerError(absl::string_view what, const absl::Status& s) {
  return absl::StrCat(what, ": ", absl::StatusCodeToString(s.code()), ": ", s.message());
}

// Both are ours and well-formed (a UUID, a template id of [a-z0-9_-]).
std::string WebhookBody(const domain::Message& m, const std::string& json) {
  return absl::StrCat("{\"messageId\":\"", m.id, "\",\"customerId\":\"", m.customer_id,
                      "\",\"templateId\":\"", m.template_id, "\",\"purpose\":\"",
                      domain::PurposeName(m.purpose), "\",\"data\":", json, "}");
}

// The gateway's URL of one tracking action on the message.
std::string TrackingUrl(const TrackingOptions& t, const std::string& tenant,
                        const domain::Message& m, common::TrackingAction action, int link,
                        absl::Time now) {
  common::TrackingClaims c;
  c.action = action;
  c.tenant_id = tenant;
  c.message_id = m.id;
  c.link = link;
  c.expire_time = absl::FromUnixSeconds(absl::ToUnixSeconds(now + t.ttl));
  const char* path = action == common::TrackingAction::kOpen     ? "/t/o/"
                     : action == common::TrackingAction::kClick  ? "/t/c/"
                     : action == common::TrackingAction::kStatus ? "/t/s/"
                                                                 : "/t/u/";
  return absl::StrCat(t.base_url, path, common::SignTrackingToken(t.key, c));
}

// Where the message goes on its channel: the first valid email address
// not on the suppression list (`bounced`, lower-cased), the first valid
// phone number (SMS), or the customer's id (push: the provider keeps the
// customer's devices under it). "" when there is none.
std::string RecipientOf(const domain::Message& m, const Contact& contact,
                        const std::set<std::string>& bounced) {
  switch (m.channel) {
    case domain::Channel::kEmail:
      for (const std::string& e : contact.emails) {
        if (domain::ValidEmailAddress(e) && bounced.count(absl::AsciiStrToLower(e)) == 0) return e;
      }
      return "";
    case domain::Channel::kSms:
      for (const std::string& p : contact.phones) {
        if (domain::ValidPhoneNumber(p)) return p;
      }
      return "";
    case domain::Channel::kPush:
      return m.customer_id;
    case domain::Channel::kWebhook:
      return "";
  }
  return "";
}

}  // namespace

std::string EventTypeOf(domain::State s) {
  switch (s) {
    case domain::State::kSent:
      return "message.sent";
    case domain::State::kSuppressed:
      return "message.suppressed";
    case domain::State::kFailed:
      return "message.failed";
    case domain::State::kUnknown:
      return "message.unknown";
    case domain::State::kCancelled:
      return "message.cancelled";
    case domain::State::kQueued:
    case domain::State::kSending:
    case domain::State::kRetrying:
      return "";
  }
  return "";
}

// Read at most once per batch (a campaign's rows share them).
struct Dispatcher::Lookups {
  absl::StatusOr<std::map<std::string, Contact>> contacts;
  std::map<std::string, absl::StatusOr<WebhookEndpoint>> endpoints;
  std::optional<absl::StatusOr<std::optional<SenderSettings>>> sender;
  std::map<domain::Channel, absl::StatusOr<std::optional<domain::ProviderSettings>>> providers;
  // Which of the batch's contacts' email addresses bounced (read at the
  // batch's first email).
  std::optional<absl::StatusOr<std::set<std::string>>> bounced;
};

absl::StatusOr<std::vector<std::optional<domain::State>>> Dispatcher::ProcessBatch(
    const std::string& tenant, const std::vector<std::string>& ids) {
  std::vector<std::optional<domain::State>> out(ids.size());
  // Queue entries name rows; anything else names none.
  std::vector<std::string> wanted;
  std::vector<size_t> wanted_at;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!common::IsUuid(ids[i])) continue;
    wanted.push_back(ids[i]);
    wanted_at.push_back(i);
  }
  if (wanted.empty()) return out;
  CRM_ASSIGN_OR_RETURN(domain::DeliveryPolicy policy, policies_.Get(tenant));
  CRM_ASSIGN_OR_RETURN(std::vector<Ledger::ClaimResult> claims,
                       ledger_.ClaimBatch(tenant, wanted, options_.lease, policy.caps));
  const absl::Time claimed_at = clock_.Now();
  std::vector<Ledger::Finished> done;
  std::vector<size_t> done_at;
  std::vector<std::string> customers;
  for (size_t k = 0; k < claims.size(); ++k) {
    if (claims[k].capped) out[wanted_at[k]] = claims[k].capped->state;
    if (!claims[k].claimed) continue;
    customers.push_back(claims[k].claimed->customer_id);
    const int attempts = claims[k].claimed->attempts;
    done.push_back({*std::move(claims[k].claimed), attempts, ""});
    done_at.push_back(wanted_at[k]);
  }
  if (done.empty()) return out;
  std::sort(customers.begin(), customers.end());
  customers.erase(std::unique(customers.begin(), customers.end()), customers.end());
  Lookups lookups{directory_.GetContacts(tenant, customers), {}, {}, {}};
  // A send starts only while the claim outlasts it; the rest wait for the
  // next sender (not an attempt).
  const absl::Time last_start = claimed_at + options_.lease - options_.longest_send;
  auto release = [&](domain::Message& m) {
    m.state = domain::State::kQueued;
    m.attempts -= 1;
    m.update_time = clock_.Now();
    m.next_attempt_time = m.update_time;
    m.last_error = "released unsent: its sender's batch ran out of claim time";
  };
  // First what needs no content (customer, consent, address, ...), then
  // the content of the messages still to send, rendered together, then
  // the sends one after the other.
  std::vector<std::optional<Prepared>> prepared(done.size());
  std::vector<Renderer::Request> renders;
  std::vector<size_t> render_of;
  for (size_t k = 0; k < done.size(); ++k) {
    domain::Message& m = done[k].message;
    if (clock_.Now() >= last_start) {
      release(m);
      continue;
    }
    Prepared p;
    if (!Prepare(tenant, policy, lookups, m, p)) continue;
    if (!p.ticket_mail) {
      renders.push_back(
          {m.template_id, m.customer_id, m.locale, m.offer_count, m.id, p.unsubscribe_url});
      render_of.push_back(k);
    }
    prepared[k] = std::move(p);
  }
  std::vector<std::optional<absl::StatusOr<Rendered>>> content(done.size());
  for (size_t k = 0; k < done.size(); ++k) {
    if (!prepared[k] || !prepared[k]->ticket_mail) continue;
    Rendered r;
    r.parts["subject"] = prepared[k]->ticket_mail->subject;
    r.parts["text"] = prepared[k]->ticket_mail->text;
    content[k] = std::move(r);
  }
  if (!renders.empty()) {
    absl::StatusOr<std::vector<absl::StatusOr<Rendered>>> batch =
        renderer_.RenderBatch(tenant, renders);
    for (size_t j = 0; j < render_of.size(); ++j) {
      content[render_of[j]] =
          batch.ok() ? std::move((*batch)[j]) : absl::StatusOr<Rendered>(batch.status());
    }
  }
  // The next row after `k` whose send will need marking (no idempotency
  // key, content in hand), or done.size().
  auto next_unkeyed = [&](size_t k) {
    for (size_t j = k + 1; j < done.size(); ++j) {
      if (prepared[j] && content[j] && content[j]->ok() &&
          !domain::ProviderDeduplicates(done[j].message.channel)) {
        return j;
      }
    }
    return done.size();
  };
  size_t marked = done.size();  // the row whose send the last finish marked (none)
  std::vector<Ledger::Finished> rest;
  std::vector<size_t> rest_at;
  for (size_t k = 0; k < done.size(); ++k) {
    domain::Message& m = done[k].message;
    const bool started = marked == k;
    bool unkeyed = started;
    if (prepared[k]) {
      if (clock_.Now() < last_start) {
        Deliver(tenant, lookups, *prepared[k], *std::move(content[k]), m, started);
        unkeyed = unkeyed || !domain::ProviderDeduplicates(m.channel);
      } else {
        release(m);
      }
    }
    done[k].event_type = EventTypeOf(m.state);
    if (unkeyed) {
      // No idempotency key (email, SMS): finished at once, so a sender
      // stopped later in the batch leaves no row of a finished send
      // looking unknown; the next such row's send is marked as started in
      // the same transaction. A failed finish leaves the row to the
      // sweeper.
      const size_t next = next_unkeyed(k);
      const bool mark_next = next < done.size() && clock_.Now() < last_start;
      absl::StatusOr<Ledger::FinishMark> r =
          ledger_.FinishAndMark(tenant, done[k], mark_next ? done[next].message.id : "",
                                mark_next ? done[next].claimed_attempts : 0);
      if (r.ok() && r->finished) out[done_at[k]] = m.state;
      marked = r.ok() && r->next_marked ? next : done.size();
      continue;
    }
    rest.push_back(std::move(done[k]));
    rest_at.push_back(done_at[k]);
  }
  if (rest.empty()) return out;
  CRM_ASSIGN_OR_RETURN(std::vector<bool> finished, ledger_.FinishBatch(tenant, rest));
  for (size_t k = 0; k < rest.size(); ++k) {
    if (finished[k]) out[rest_at[k]] = rest[k].message.state;
  }
  return out;
}

absl::StatusOr<std::set<std::string>> Dispatcher::BouncedAmong(
    const std::string& tenant, const std::map<std::string, Contact>& contacts) {
  std::vector<std::string> addresses;
  for (const auto& [id, c] : contacts) {
    for (const std::string& e : c.emails) {
      if (domain::ValidEmailAddress(e)) addresses.push_back(absl::AsciiStrToLower(e));
    }
  }
  CRM_ASSIGN_OR_RETURN(std::vector<std::string> listed,
                       settings_.SuppressedAmong(tenant, domain::Channel::kEmail, addresses));
  return std::set<std::string>(listed.begin(), listed.end());
}

bool Dispatcher::StartSend(const std::string& tenant, domain::Message& m, bool started) {
  if (started || domain::ProviderDeduplicates(m.channel)) return true;
  absl::StatusOr<bool> ours = ledger_.MarkSendStarted(tenant, m.id, m.attempts);
  if (!ours.ok()) {
    Fail(m, domain::Outcome::kTransient, PeerError("ledger", ours.status()));
    return false;
  }
  // Lost already: the row stays as claimed here, and its finish writes
  // nothing (the sweeper has it).
  return *ours;
}

bool Dispatcher::Suppress(domain::Message& m, domain::Suppression why, std::string detail) {
  m.state = domain::State::kSuppressed;
  m.suppression = why;
  m.last_error = std::move(detail);
  m.next_attempt_time.reset();
  m.update_time = clock_.Now();
  return false;
}

bool Dispatcher::Fail(domain::Message& m, domain::Outcome outcome, std::string detail) {
  domain::SendResult r;
  r.outcome = outcome;
  r.detail = std::move(detail);
  domain::ApplyFailure(m, r, clock_.Now(), options_.retry, jitter_());
  return false;
}

bool Dispatcher::Prepare(const std::string& tenant, const domain::DeliveryPolicy& policy,
                         Lookups& lookups, domain::Message& m, Prepared& prepared) {
  if (!lookups.contacts.ok()) {
    Fail(m, domain::Outcome::kTransient, PeerError("customer-store", lookups.contacts.status()));
    return false;
  }
  auto found = lookups.contacts->find(m.customer_id);
  if (found == lookups.contacts->end()) {
    return Suppress(m, domain::Suppression::kCustomerGone,
                    "the customer no longer exists (erased or merged)");
  }
  const Contact* contact = &found->second;
  if (!m.ticket_mail_id.empty()) {
    prepared.contact = contact;
    return PrepareTicketMail(tenant, m, prepared);
  }
  if (m.purpose == domain::Purpose::kMarketing && policy.quiet_hours) {
    const absl::Time now = clock_.Now();
    if (std::optional<absl::Time> until =
            domain::QuietUntil(now, contact->time_zone, *policy.quiet_hours)) {
      // Deferred, not dropped, and not an attempt.
      m.state = domain::State::kQueued;
      m.attempts -= 1;
      m.next_attempt_time = *until;
      m.update_time = now;
      m.last_error = absl::StrCat(
          "deferred: quiet hours ", domain::FormatClock(policy.quiet_hours->start_minute), "-",
          domain::FormatClock(policy.quiet_hours->end_minute), " in ",
          contact->time_zone.empty() ? policy.quiet_hours->default_time_zone : contact->time_zone);
      return false;
    }
  }
  const std::string channel(domain::ChannelName(m.channel));
  std::optional<WebhookEndpoint> endpoint;
  std::optional<domain::ProviderSettings> provider;
  if (m.channel != domain::Channel::kWebhook) {
    domain::ConsentStatus consent = domain::ConsentStatus::kUnknown;
    auto by_channel = contact->consents.find(channel);
    if (by_channel != contact->consents.end()) {
      auto status = by_channel->second.find(std::string(domain::PurposeName(m.purpose)));
      if (status != by_channel->second.end()) consent = status->second;
    }
    if (!domain::ConsentAllows(m.purpose, consent)) {
      return Suppress(m, domain::Suppression::kConsent,
                      absl::StrCat("no consent for ", domain::PurposeName(m.purpose), " ", channel,
                                   " messages"));
    }
    static const std::set<std::string> kNone;
    const std::set<std::string>* bounced = &kNone;
    if (m.channel == domain::Channel::kEmail) {
      if (!lookups.bounced) lookups.bounced = BouncedAmong(tenant, *lookups.contacts);
      if (!lookups.bounced->ok()) {
        return Fail(m, domain::Outcome::kTransient, PeerError("ledger", lookups.bounced->status()));
      }
      bounced = &**lookups.bounced;
    }
    m.recipient = RecipientOf(m, *contact, *bounced);
    if (m.recipient.empty()) {
      const bool all_bounced =
          m.channel == domain::Channel::kEmail && !RecipientOf(m, *contact, kNone).empty();
      return Suppress(m, domain::Suppression::kInvalidAddress,
                      all_bounced
                          ? "every valid email address of the customer bounced (suppression list)"
                          : absl::StrCat("the customer has no valid ",
                                         m.channel == domain::Channel::kEmail ? "email address"
                                                                              : "phone number"));
    }
    if (m.channel != domain::Channel::kEmail) {
      auto cached = lookups.providers.find(m.channel);
      if (cached == lookups.providers.end()) {
        cached =
            lookups.providers.emplace(m.channel, settings_.GetProvider(tenant, m.channel)).first;
      }
      const absl::StatusOr<std::optional<domain::ProviderSettings>>& p = cached->second;
      if (!p.ok()) return Fail(m, domain::Outcome::kTransient, PeerError("ledger", p.status()));
      if (!p->has_value()) {
        return Fail(m, domain::Outcome::kPermanent,
                    absl::StrCat("no ", channel, " provider is configured"));
      }
      provider = **p;
    }
  } else {
    // Webhooks go to the tenant's own systems: no customer consent applies.
    auto cached = lookups.endpoints.find(m.endpoint_id);
    if (cached == lookups.endpoints.end()) {
      cached =
          lookups.endpoints.emplace(m.endpoint_id, settings_.GetEndpoint(tenant, m.endpoint_id))
              .first;
    }
    const absl::StatusOr<WebhookEndpoint>& e = cached->second;
    if (e.status().code() == absl::StatusCode::kNotFound) {
      return Fail(m, domain::Outcome::kPermanent,
                  absl::StrCat("webhook endpoint ", m.endpoint_id, " was deleted"));
    }
    if (!e.ok()) return Fail(m, domain::Outcome::kTransient, PeerError("ledger", e.status()));
    endpoint = *e;
    m.recipient = endpoint->url;
  }
  const TrackingOptions& tracking = options_.tracking;
  prepared.contact = contact;
  prepared.endpoint = std::move(endpoint);
  prepared.provider = std::move(provider);
  prepared.tracked = m.channel == domain::Channel::kEmail && !tracking.base_url.empty();
  prepared.now = clock_.Now();
  if (prepared.tracked && m.purpose == domain::Purpose::kMarketing) {
    prepared.unsubscribe_url =
        TrackingUrl(tracking, tenant, m, common::TrackingAction::kUnsubscribe, 0, prepared.now);
  }
  return true;
}

bool Dispatcher::PrepareTicketMail(const std::string& tenant, domain::Message& m,
                                   Prepared& prepared) {
  absl::StatusOr<TicketMail> mail = desk_.GetTicketMail(tenant, m.ticket_id, m.ticket_mail_id);
  if (mail.status().code() == absl::StatusCode::kNotFound) {
    return Fail(m, domain::Outcome::kPermanent,
                "the service desk no longer has this mail (its ticket was deleted)");
  }
  if (!mail.ok())
    return Fail(m, domain::Outcome::kTransient, PeerError("service-desk", mail.status()));
  if (!domain::ValidEmailAddress(mail->to_address)) {
    return Suppress(m, domain::Suppression::kInvalidAddress,
                    "the ticket's requester address is not a valid email address");
  }
  absl::StatusOr<std::vector<std::string>> bounced = settings_.SuppressedAmong(
      tenant, domain::Channel::kEmail, {absl::AsciiStrToLower(mail->to_address)});
  if (!bounced.ok())
    return Fail(m, domain::Outcome::kTransient, PeerError("ledger", bounced.status()));
  if (!bounced->empty()) {
    return Suppress(m, domain::Suppression::kInvalidAddress,
                    "the address bounced for good (suppression list)");
  }
  m.recipient = mail->to_address;
  prepared.now = clock_.Now();
  prepared.ticket_mail = *std::move(mail);
  return true;
}

bool Dispatcher::Deliver(const std::string& tenant, Lookups& lookups, const Prepared& prepared,
                         absl::StatusOr<Rendered> rendered, domain::Message& m, bool started) {
  const TrackingOptions& tracking = options_.tracking;
  const bool tracked = prepared.tracked;
  const absl::Time now = prepared.now;
  const std::string& unsubscribe_url = prepared.unsubscribe_url;
  const Contact* contact = prepared.contact;
  const std::optional<WebhookEndpoint>& endpoint = prepared.endpoint;
  const std::optional<domain::ProviderSettings>& provider = prepared.provider;
  if (rendered.status().code() == absl::StatusCode::kNotFound ||
      rendered.status().code() == absl::StatusCode::kInvalidArgument ||
      rendered.status().code() == absl::StatusCode::kFailedPrecondition) {
    return Fail(m, domain::Outcome::kPermanent, PeerError("render", rendered.status()));
  }
  if (!rendered.ok()) {
    return Fail(m, domain::Outcome::kTransient, PeerError("render", rendered.status()));
  }
  m.decision_ids = rendered->decision_ids;
  m.offer_ids = rendered->offer_ids;
  domain::SendResult result;
  if (m.channel == domain::Channel::kEmail) {
    if (!lookups.sender) lookups.sender = settings_.GetSenderSettings(tenant);
    const absl::StatusOr<std::optional<SenderSettings>>& sender = *lookups.sender;
    if (!sender.ok()) {
      return Fail(m, domain::Outcome::kTransient, PeerError("ledger", sender.status()));
    }
    OutboundEmail out;
    out.tenant = tenant;
    out.message_id = m.id;
    out.to = m.recipient;
    out.to_name = contact->display_name;
    out.sender = sender->value_or(options_.default_sender);
    out.parts = rendered->parts;
    out.list_unsubscribe_url = unsubscribe_url;
    if (const std::optional<TicketMail>& desk = prepared.ticket_mail) {
      out.sender = SenderSettings{desk->from_address, desk->from_name, "", std::nullopt};
      out.to_name = desk->to_name;
      out.header_message_id = desk->message_id;
      out.in_reply_to = desk->in_reply_to;
      out.references = desk->references;
      out.auto_submitted = desk->auto_submitted;
      out.attachments = desk->attachments;
    }
    m.links.clear();
    if (auto html = out.parts.find("html"); tracked && html != out.parts.end()) {
      domain::TrackedHtml t = domain::TrackLinks(
          html->second,
          [&](int i) {
            return TrackingUrl(tracking, tenant, m, common::TrackingAction::kClick, i, now);
          },
          absl::StrCat(tracking.base_url, "/t/"), common::kMaxTrackedLinks);
      m.links = std::move(t.links);
      html->second = domain::AddOpenPixel(
          t.html, TrackingUrl(tracking, tenant, m, common::TrackingAction::kOpen, 0, now));
    }
    if (!StartSend(tenant, m, started)) return false;
    result = email_.Send(out);
  } else if (provider) {
    auto part = [&](const char* name) {
      auto it = rendered->parts.find(name);
      return it == rendered->parts.end() ? std::string() : it->second;
    };
    OutboundNotification out;
    out.tenant = tenant;
    out.provider = *provider;
    out.notification = {m.id, m.recipient, part("text"), part("title"), part("body"), ""};
    if (m.channel == domain::Channel::kSms && !tracking.base_url.empty()) {
      out.notification.status_callback_url =
          TrackingUrl(tracking, tenant, m, common::TrackingAction::kStatus, 0, now);
    }
    if (!StartSend(tenant, m, started)) return false;
    result = notify_.Send(out);
  } else {
    auto json = rendered->parts.find("json");
    if (json == rendered->parts.end()) {
      return Fail(m, domain::Outcome::kPermanent, "the rendered template has no json part");
    }
    OutboundWebhook out;
    out.tenant = tenant;
    out.message_id = m.id;
    out.endpoint = *endpoint;
    out.body = WebhookBody(m, json->second);
    result = webhook_.Send(out);
  }
  if (result.outcome == domain::Outcome::kDelivered) {
    const absl::Time now = clock_.Now();
    m.state = domain::State::kSent;
    m.provider_id = result.provider_id;
    m.last_error.clear();
    m.send_time = now;
    m.update_time = now;
    m.next_attempt_time.reset();
    return true;
  }
  if (result.refused == domain::Suppression::kConsent && m.channel == domain::Channel::kSms) {
    // The provider says the number opted out of the sender (a STOP reply):
    // so it is recorded, and the next message stops at the consent check
    // without asking the provider. Both purposes: STOP blocks every
    // message. Best effort: the message is suppressed either way.
    for (const char* purpose : {"marketing", "transactional"}) {
      absl::Status s =
          directory_.RecordOptOut(tenant, m.customer_id, {"sms", purpose, "sms-stop", m.id});
      if (!s.ok()) {
        result.detail =
            absl::StrCat(result.detail, " (the opt-out could not be recorded: ", s.message(), ")");
        break;
      }
    }
  }
  if (result.refused != domain::Suppression::kNone) {
    return Suppress(m, result.refused, std::move(result.detail));
  }
  domain::ApplyFailure(m, result, clock_.Now(), options_.retry, jitter_());
  return false;
}

}  // namespace crm::delivery::app
