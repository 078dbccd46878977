#pragma once
// The delivery engine's ports: the send ledger and the tenant's settings
// (storage/pg_delivery_repository.h), the work queue (storage/redis_queue.h),
// the peers that know the customer and render the content (clients/), and
// the channels that reach the recipient (channels/).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/outbox/write_port.h"
#include "services/delivery/domain/attribution.h"
#include "services/delivery/domain/campaign.h"
#include "services/delivery/domain/email.h"
#include "services/delivery/domain/journey.h"
#include "services/delivery/domain/message.h"
#include "services/delivery/domain/network_policy.h"
#include "services/delivery/domain/policy.h"
#include "services/delivery/domain/providers.h"

namespace crm::delivery::app {

struct WebhookEndpoint {
  std::string id;
  std::string url;
  std::string description;
  std::string secret;  // plain in memory; sealed at rest
  absl::Duration timeout = absl::Seconds(5);
  int max_concurrency = 8;
  absl::Time create_time = absl::InfinitePast();
};

struct SenderSettings {
  std::string from_address;
  std::string from_name;
  std::string reply_to_address;
  std::optional<absl::Time> update_time;  // nullopt: never set
};

// An address no message goes to (docs/delivery.md, "Bounces and
// complaints"): it bounced for good.
struct SuppressedAddress {
  domain::Channel channel = domain::Channel::kEmail;
  std::string address;  // lower-cased
  std::string reason = "bounce";
  std::string detail;
  std::string message_id;  // the message whose event put it here
  absl::Time create_time = absl::InfinitePast();
};
struct SuppressionPage {
  std::vector<SuppressedAddress> items;
  std::string next_after;  // "" on the last page
};

struct Page {
  int size = 50;
  std::string after;  // the page token's cursor: "<created_at micros>/<id>", "" first page
};
struct MessagePage {
  std::vector<domain::Message> messages;
  std::string next_after;  // "" on the last page
};

// An order of the transaction engine as conversions see it (one version).
struct OrderConversion {
  std::string event_id;
  std::string order_id;
  std::string customer_id;
  std::string currency_code;
  int64_t revenue_minor = 0;  // the order's net value (returns taken off)
  int64_t version = 0;
  absl::Time order_time = absl::InfinitePast();  // when it was placed
  bool cancelled = false;
};
enum class ConversionKind { kCredited, kExposed };
struct ConversionResult {
  std::string credited_message_id;  // "" when no message gets the credit
  bool first_credit = false;        // this version credited the order first
  int64_t exposed = 0;              // campaign rows counting it after exposure
  int64_t withdrawn = 0;            // a cancelled order: the rows taken back
};

// One write of the ledger or the settings.
class DeliveryTx {
 public:
  virtual ~DeliveryTx() = default;
  virtual void InsertMessage(const domain::Message& m) = 0;
  // NOT_FOUND (MESSAGE_NOT_FOUND) when the tenant has no such message.
  virtual absl::StatusOr<domain::Message> LoadMessageForUpdate(const std::string& id) = 0;
  virtual void SaveMessage(const domain::Message& m) = 0;
  // What happened after the send: engagement (opens, clicks, unsubscribe)
  // and the delivery receipt.
  virtual void SaveEngagement(const domain::Message& m) = 0;
  virtual void EmitMessage(const std::string& type, const domain::Message& m) = 0;
  // The suppression list: an address already on it keeps its first entry.
  virtual void SaveSuppression(const SuppressedAddress& s) = 0;
  virtual absl::StatusOr<bool> DeleteSuppression(domain::Channel channel,
                                                 const std::string& address) = 0;  // false: none
  virtual absl::StatusOr<int64_t> CountEndpoints() = 0;
  virtual void InsertEndpoint(const WebhookEndpoint& e) = 0;
  virtual absl::StatusOr<bool> DeleteEndpoint(const std::string& id) = 0;  // false: none
  virtual void SaveSenderSettings(const SenderSettings& s) = 0;
  // The tenant's SMS or push provider (docs/delivery.md, "SMS and push").
  virtual absl::StatusOr<std::optional<domain::ProviderSettings>> LoadProviderForUpdate(
      domain::Channel channel) = 0;
  virtual void SaveProvider(const domain::ProviderSettings& p) = 0;          // insert or replace
  virtual absl::StatusOr<bool> DeleteProvider(domain::Channel channel) = 0;  // false: none
  virtual absl::StatusOr<std::optional<domain::DeliveryPolicy>> LoadPolicyForUpdate() = 0;
  virtual void SavePolicy(const domain::DeliveryPolicy& p) = 0;
  // NOT_FOUND (CAMPAIGN_NOT_FOUND).
  virtual absl::StatusOr<domain::Campaign> LoadCampaignForUpdate(const std::string& id) = 0;
  virtual void SaveCampaign(const domain::Campaign& c) = 0;  // insert or update
  virtual void EmitCampaign(const std::string& type, const domain::Campaign& c) = 0;
  // Ledger rows of a campaign (or a journey step's row: no campaign), all
  // of one channel, purpose, endpoint and offer count; a row whose key
  // (request_id) exists is skipped. The ids of the rows inserted.
  virtual absl::StatusOr<std::vector<std::string>> InsertCampaignMessages(
      const std::vector<domain::Message>& rows) = 0;
  // The campaign's queued and retrying rows become cancelled; how many.
  virtual absl::StatusOr<int64_t> CancelCampaignMessages(const std::string& campaign_id) = 0;
  // Abandoned carts. The customer's queued row of the campaign, if any, is
  // due no sooner than `due`; false when there is none.
  virtual absl::StatusOr<bool> PostponePending(const std::string& campaign_id,
                                               const std::string& customer_id, absl::Time due) = 0;
  // The customer's queued or retrying rows of the campaign due by
  // `due_by` become suppressed for `why` (`detail` their last_error);
  // the rows as they are now, for their events.
  virtual absl::StatusOr<std::vector<domain::Message>> SuppressPending(
      const std::string& campaign_id, const std::string& customer_id, absl::Time due_by,
      domain::Suppression why, const std::string& detail) = 0;
  // The campaign's queued rows, in their order, due from `start` one
  // 1/throttle apart (all at `start` when throttle is 0); how many.
  virtual absl::StatusOr<int64_t> RespaceCampaignMessages(const std::string& campaign_id,
                                                          absl::Time start, int throttle) = 0;
  // Rows of the campaign not final yet (queued, sending, retrying).
  virtual absl::StatusOr<int64_t> CountOpenCampaignMessages(const std::string& campaign_id) = 0;
  // Conversions. The customer's sent messages clicked or opened since `since`.
  virtual absl::StatusOr<std::vector<domain::Touch>> LoadTouches(const std::string& customer_id,
                                                                 absl::Time since) = 0;
  // The customer's final campaign rows (sent, or not sent: suppressed,
  // failed, unknown, the holdout) whose send (or last change) lies in
  // [from, to]: the order counts for them as after exposure.
  virtual absl::StatusOr<std::vector<std::string>> LoadExposures(const std::string& customer_id,
                                                                 absl::Time from,
                                                                 absl::Time to) = 0;
  // The message an earlier version of the order was credited to.
  virtual absl::StatusOr<std::optional<std::string>> CreditedMessageOf(
      const std::string& order_id) = 0;
  // Inserts the (order, message, kind) row, or updates its revenue when
  // this version is newer; true when inserted.
  virtual absl::StatusOr<bool> SaveConversion(const OrderConversion& order,
                                              const std::string& message_id,
                                              ConversionKind kind) = 0;
  // A cancelled order: its rows are deleted; how many.
  virtual absl::StatusOr<int64_t> DeleteConversions(const std::string& order_id) = 0;
  // message.converted for the message credited with the order.
  virtual void EmitConversion(const domain::Message& m, const OrderConversion& order) = 0;
};

// A campaign's ledger rows counted by variant, state and suppression reason.
struct CampaignCount {
  std::string variant_id;  // "" for the holdout
  domain::State state = domain::State::kQueued;
  domain::Suppression suppression = domain::Suppression::kNone;
  int64_t count = 0;
  // Of those, the ones opened, clicked, unsubscribed (at least once).
  int64_t opened = 0;
  int64_t clicked = 0;
  int64_t unsubscribed = 0;
  // Of those, the ones the provider reported delivered, or bounced.
  int64_t delivered = 0;
  int64_t bounced = 0;
};

// A campaign's sent messages carrying an offer, and the conversions
// credited to them in one currency (`currency_code` "": the sent row).
struct OfferCount {
  std::string offer_id;
  std::string currency_code;
  int64_t messages = 0;  // sent (""), or converted in the currency
  int64_t revenue_minor = 0;
};

// A campaign's conversions by variant and kind: the messages with one
// (`currency_code` ""), or the revenue in one currency.
struct ConversionCount {
  std::string variant_id;  // "" for the holdout
  ConversionKind kind = ConversionKind::kCredited;
  std::string currency_code;  // "": the distinct messages row
  int64_t messages = 0;
  int64_t revenue_minor = 0;
};

class DeliveryRepository
    : public outbox::UnitOfWork<DeliveryTx, domain::Message, WebhookEndpoint, SenderSettings,
                                domain::DeliveryPolicy, domain::Campaign, domain::ProviderSettings,
                                bool> {
 public:
  virtual absl::StatusOr<domain::Message> GetMessage(const std::string& tenant,
                                                     const std::string& id) = 0;
  virtual absl::StatusOr<MessagePage> ListCustomerMessages(const std::string& tenant,
                                                           const std::string& customer_id,
                                                           const Page& page) = 0;
  virtual absl::StatusOr<MessagePage> ListMessages(const std::string& tenant, domain::State state,
                                                   const Page& page) = 0;
  // NOT_FOUND (WEBHOOK_ENDPOINT_NOT_FOUND).
  virtual absl::StatusOr<WebhookEndpoint> GetEndpoint(const std::string& tenant,
                                                      const std::string& id) = 0;
  virtual absl::StatusOr<std::vector<WebhookEndpoint>> ListEndpoints(const std::string& tenant) = 0;
  virtual absl::StatusOr<std::optional<SenderSettings>> GetSenderSettings(
      const std::string& tenant) = 0;
  virtual absl::StatusOr<std::optional<domain::DeliveryPolicy>> GetPolicy(
      const std::string& tenant) = 0;
  virtual absl::StatusOr<std::optional<domain::ProviderSettings>> GetProvider(
      const std::string& tenant, domain::Channel channel) = 0;
  virtual absl::StatusOr<std::vector<domain::ProviderSettings>> ListProviders(
      const std::string& tenant) = 0;
  // The suppression list, newest first (`page.after`: the page token's
  // cursor).
  virtual absl::StatusOr<SuppressionPage> ListSuppressions(const std::string& tenant,
                                                           domain::Channel channel,
                                                           const Page& page) = 0;
  // Which of `addresses` (lower-cased) are on the list.
  virtual absl::StatusOr<std::vector<std::string>> SuppressedAmong(
      const std::string& tenant, domain::Channel channel,
      const std::vector<std::string>& addresses) = 0;
  // NOT_FOUND (CAMPAIGN_NOT_FOUND).
  virtual absl::StatusOr<domain::Campaign> GetCampaign(const std::string& tenant,
                                                       const std::string& id) = 0;
  virtual absl::StatusOr<std::vector<domain::Campaign>> ListCampaigns(
      const std::string& tenant) = 0;  // newest first, at most 1,000
  // The tenant's running campaigns triggered by `kind` (at most 1,000).
  virtual absl::StatusOr<std::vector<domain::Campaign>> TriggeredCampaigns(
      const std::string& tenant, domain::TriggerKind kind) = 0;
  virtual absl::StatusOr<std::vector<CampaignCount>> CountCampaignMessages(
      const std::string& tenant, const std::string& campaign_id) = 0;
  virtual absl::StatusOr<std::vector<ConversionCount>> CountCampaignConversions(
      const std::string& tenant, const std::string& campaign_id) = 0;
  virtual absl::StatusOr<std::vector<OfferCount>> CountCampaignOffers(
      const std::string& tenant, const std::string& campaign_id) = 0;
  struct CampaignRef {
    std::string tenant;
    std::string id;
  };
  // Every tenant's campaigns the runner has work for: scheduled ones whose
  // start has come, and running ones (at most `limit`).
  virtual absl::StatusOr<std::vector<CampaignRef>> ActiveCampaigns(int limit) = 0;
  // The right to erasure (customer-store's customer.erased): deletes every
  // ledger row of these customers, once per event id (a redelivered event
  // erases nothing more); the number of rows deleted.
  virtual absl::StatusOr<int64_t> EraseCustomers(const std::string& tenant,
                                                 const std::string& event_id,
                                                 const std::vector<std::string>& customer_ids) = 0;
};

// The ledger as the senders and the sweeper use it (no idempotency keys:
// each step is guarded by the row's state).
class Ledger {
 public:
  virtual ~Ledger() = default;
  // The claim: the row becomes 'sending' with one more attempt and a lease,
  // if it is queued or retrying and due (else neither field is set: another
  // sender has it, or it is final, or not due yet). A marketing message
  // over one of `caps` (those of its channel apply: sent in the window, or
  // being sent, to the customer on the channel) is suppressed instead, in
  // the same transaction and under a lock per customer and channel, so two
  // senders cannot both pass a cap: `capped`, finished with its event.
  // ClaimBatch claims a batch of one tenant's rows in one transaction: one
  // result per id, in order (an id given twice is claimed once).
  struct ClaimResult {
    std::optional<domain::Message> claimed;
    std::optional<domain::Message> capped;
  };
  virtual absl::StatusOr<std::vector<ClaimResult>> ClaimBatch(
      const std::string& tenant, const std::vector<std::string>& ids, absl::Duration lease,
      const std::vector<domain::FrequencyCap>& caps) = 0;
  absl::StatusOr<ClaimResult> Claim(const std::string& tenant, const std::string& id,
                                    absl::Duration lease,
                                    const std::vector<domain::FrequencyCap>& caps) {
    absl::StatusOr<std::vector<ClaimResult>> r = ClaimBatch(tenant, {id}, lease, caps);
    if (!r.ok()) return r.status();
    return std::move(r->front());
  }
  // Just before the provider call of a channel without an idempotency key
  // (email, SMS), committed: the send has started, so a claim lost from now
  // on is unknown rather than retried. false when the claim was lost
  // already (then nothing may be sent).
  virtual absl::StatusOr<bool> MarkSendStarted(const std::string& tenant, const std::string& id,
                                               int claimed_attempts) = 0;
  // Writes the finished row (state, error, recipient, ...) if it is still
  // the claimed attempt (state 'sending', same attempts), with its event;
  // false when the claim was lost meanwhile (the sweeper took it back).
  // `claimed_attempts`: the row's attempts as the claim left them.
  // FinishBatch writes a batch of one tenant's rows in one transaction: one
  // answer per row, in order.
  struct Finished {
    domain::Message message;
    int claimed_attempts = 0;
    std::string event_type;  // "" for none
  };
  virtual absl::StatusOr<std::vector<bool>> FinishBatch(const std::string& tenant,
                                                        const std::vector<Finished>& rows) = 0;
  absl::StatusOr<bool> Finish(const std::string& tenant, const domain::Message& m,
                              int claimed_attempts, const std::string& event_type) {
    absl::StatusOr<std::vector<bool>> r =
        FinishBatch(tenant, {Finished{m, claimed_attempts, event_type}});
    if (!r.ok()) return r.status();
    return r->front();
  }
  // An email or SMS row finished and, in the same transaction, the send
  // of the batch's next such row marked as started (`next_id` "": none;
  // `next_attempts` its claimed attempts): one transaction per message
  // where finish and mark took two, and still at most one row per sender
  // started but not finished. The default runs the two one after the other.
  struct FinishMark {
    bool finished = false;
    bool next_marked = false;  // false: no next row, or its claim was lost
  };
  virtual absl::StatusOr<FinishMark> FinishAndMark(const std::string& tenant, const Finished& row,
                                                   const std::string& next_id, int next_attempts) {
    FinishMark out;
    absl::StatusOr<std::vector<bool>> done = FinishBatch(tenant, {row});
    if (!done.ok()) return done.status();
    out.finished = done->front();
    if (next_id.empty()) return out;
    absl::StatusOr<bool> marked = MarkSendStarted(tenant, next_id, next_attempts);
    if (!marked.ok()) return marked.status();
    out.next_marked = *marked;
    return out;
  }
  struct Due {
    std::string tenant;
    std::string id;
  };
  // Rows queued or retrying and due, not on the queue since `requeue_after`,
  // marked as queued now (at most `limit`, every tenant).
  virtual absl::StatusOr<std::vector<Due>> TakeDue(absl::Duration requeue_after, int limit) = 0;
  // Claims whose lease ended: ApplyLostClaim (send started or not),
  // written with its event.
  virtual absl::StatusOr<int> ResolveLostClaims(int limit) = 0;
};

// The work queue: which ledger rows to look at. Losing an entry loses
// nothing (the sweeper finds the row again).
class WorkQueue {
 public:
  virtual ~WorkQueue() = default;
  virtual absl::Status Enqueue(const std::vector<Ledger::Due>& items) = 0;
};

struct Contact {
  std::vector<std::string> emails;
  std::vector<std::string> phones;  // E.164
  std::string locale;
  std::string time_zone;  // IANA, "" when the profile has none
  std::string display_name;
  // channel name ("email", ...) -> purpose name -> status
  std::map<std::string, std::map<std::string, domain::ConsentStatus>> consents;
};

class CustomerDirectory {
 public:
  virtual ~CustomerDirectory() = default;
  // The contacts of these customers by id, read at once (a sender's
  // batch); a customer that does not exist (erased, merged away) is absent.
  virtual absl::StatusOr<std::map<std::string, Contact>> GetContacts(
      const std::string& tenant, const std::vector<std::string>& customer_ids) = 0;
  // Records that the customer opted out of `purpose` on `channel` ("email",
  // "sms"; "marketing", "transactional") because of message `message_id`:
  // its unsubscribe link, or a STOP reply to it. `source` says which
  // ("unsubscribe-link", "sms-stop"). One consent record per message and
  // purpose, however often it is reported; NOT_FOUND when the customer is
  // gone.
  struct OptOut {
    std::string channel;
    std::string purpose;
    std::string source;
    std::string message_id;
  };
  virtual absl::Status RecordOptOut(const std::string& tenant, const std::string& customer_id,
                                    const OptOut& opt_out) = 0;
  // A journey's update_attribute step: the customer's custom attribute
  // `name` becomes `value`; `request_id` makes a retry change nothing more.
  // NOT_FOUND when the customer is gone.
  virtual absl::Status SetAttribute(const std::string& tenant, const std::string& customer_id,
                                    const std::string& name, const domain::AttributeValue& value,
                                    const std::string& request_id) = 0;
};

struct Rendered {
  std::map<std::string, std::string> parts;
  std::vector<std::string> decision_ids;
  std::vector<std::string> offer_ids;  // the offers of decision_ids
};

class Renderer {
 public:
  virtual ~Renderer() = default;
  // The template's channel name ("email", "sms", "push", "webhook");
  // NOT_FOUND (TEMPLATE_NOT_FOUND).
  virtual absl::StatusOr<std::string> TemplateChannel(const std::string& tenant,
                                                      const std::string& template_id) = 0;
  // What one message asks of its template: `request_id` decides the
  // message's offers once; `unsubscribe_url` is what the template's
  // {{message.unsubscribe_url}} shows.
  struct Request {
    std::string template_id;
    std::string customer_id;
    std::string locale;
    int offer_count = 0;
    std::string request_id;
    std::string unsubscribe_url;
  };
  // A batch's messages rendered at once: one answer per request, in order
  // (NOT_FOUND TEMPLATE_NOT_FOUND / CUSTOMER_NOT_FOUND, ...); the whole
  // call's failure (the peer down) as the outer status.
  virtual absl::StatusOr<std::vector<absl::StatusOr<Rendered>>> RenderBatch(
      const std::string& tenant, const std::vector<Request>& requests) = 0;
};

struct OutboundEmail {
  std::string tenant;
  std::string message_id;
  std::string to;
  std::string to_name;
  SenderSettings sender;
  std::map<std::string, std::string> parts;  // subject, html, text
  std::string list_unsubscribe_url;          // marketing: the one-click unsubscribe link
  // A mail of the service desk: its own Message-ID (without brackets;
  // "": <message_id>@<the sender's domain>), the thread it answers, and
  // whether it was sent automatically (Auto-Submitted: auto-replied,
  // X-Auto-Response-Suppress: All and a null envelope sender, RFC 3834).
  std::string header_message_id;
  std::string in_reply_to;
  std::vector<std::string> references;
  bool auto_submitted = false;
  std::vector<domain::EmailAttachment> attachments;  // a desk reply's files
};
// A mail of the service desk as it is to be sent (its GetOutboundMail).
struct TicketMail {
  std::string from_address;
  std::string from_name;
  std::string to_address;
  std::string to_name;
  std::string subject;
  std::string text;
  std::string message_id;  // without brackets
  std::string in_reply_to;
  std::vector<std::string> references;
  bool auto_submitted = false;
  std::vector<domain::EmailAttachment> attachments;  // the reply's files, in order
};
class TicketMailSource {
 public:
  virtual ~TicketMailSource() = default;
  // NOT_FOUND when the desk has no such mail (its ticket deleted).
  virtual absl::StatusOr<TicketMail> GetTicketMail(const std::string& tenant,
                                                   const std::string& ticket_id,
                                                   const std::string& mail_id) = 0;
};

class EmailChannel {
 public:
  virtual ~EmailChannel() = default;
  virtual domain::SendResult Send(const OutboundEmail& email) = 0;
};

struct OutboundWebhook {
  std::string tenant;
  std::string message_id;  // the Idempotency-Key header
  WebhookEndpoint endpoint;
  std::string body;  // JSON
};
class WebhookChannel {
 public:
  virtual ~WebhookChannel() = default;
  virtual domain::SendResult Send(const OutboundWebhook& hook) = 0;
};

// SMS and push: one adapter for every provider (domain/providers.h builds
// the request and reads the answer; the channel makes the call).
struct OutboundNotification {
  std::string tenant;
  domain::ProviderSettings provider;
  domain::Notification notification;
};
class NotificationChannel {
 public:
  virtual ~NotificationChannel() = default;
  virtual domain::SendResult Send(const OutboundNotification& n) = 0;
};

// A campaign's audience from segmentation: the members of a live segment,
// page by page in a stable order.
struct MemberPage {
  std::vector<std::string> customer_ids;
  std::string next_cursor;  // "" after the last page
};
class SegmentDirectory {
 public:
  virtual ~SegmentDirectory() = default;
  // NOT_FOUND (SEGMENT_NOT_FOUND) for a segment the tenant does not have.
  virtual absl::Status CheckSegment(const std::string& tenant, const std::string& segment_id) = 0;
  virtual absl::StatusOr<MemberPage> Members(const std::string& tenant,
                                             const std::string& segment_id,
                                             const std::string& cursor, int page_size) = 0;
  // A journey's condition: whether the customer matches the segment
  // expression now (false for a customer segmentation does not know).
  virtual absl::StatusOr<bool> Matches(const std::string& tenant, const std::string& customer_id,
                                       const std::string& expression) = 0;
};

// Host names to addresses (the webhook URL check).
class HostResolver {
 public:
  virtual ~HostResolver() = default;
  virtual absl::StatusOr<std::vector<domain::IpAddress>> Resolve(const std::string& host) = 0;
};

// A runner of the engine's time-driven work (campaigns, journeys): one
// round over every tenant; how many things had work (the caller runs again
// at once while it is not 0).
class Runner {
 public:
  virtual ~Runner() = default;
  virtual absl::StatusOr<int> Tick() = 0;
  virtual std::string Name() const = 0;  // for the logs: "campaign", "journey"
};

// Journeys (domain/journey.h): one write of a journey or an enrolment.
class JourneyTx {
 public:
  virtual ~JourneyTx() = default;
  // NOT_FOUND (JOURNEY_NOT_FOUND).
  virtual absl::StatusOr<domain::Journey> LoadJourneyForUpdate(const std::string& id) = 0;
  virtual void SaveJourney(const domain::Journey& j) = 0;  // insert or update
  virtual void EmitJourney(const std::string& type, const domain::Journey& j) = 0;
  // The journey's active enrolments end (exited for `reason`); how many.
  virtual absl::StatusOr<int64_t> ExitEnrollments(const std::string& journey_id,
                                                  const std::string& reason) = 0;
  // A new enrolment at its first step (its entry: the customer's next one),
  // with that step's visit; nullopt when `reentry` keeps the customer out
  // (enrolled now, or ever under kOnce) or its event enrolled already.
  virtual absl::StatusOr<std::optional<domain::Enrollment>> InsertEnrollment(
      const domain::Enrollment& e, domain::JourneyReentry reentry) = 0;
};

// A step an enrolment entered.
struct StepVisit {
  int seq = 0;
  std::string step_id;
  absl::Time enter_time = absl::InfinitePast();
};
struct EnrollmentView {
  domain::Enrollment enrollment;
  std::vector<StepVisit> visits;
};
// A journey's enrolments counted by state and exit reason, its visits by
// step, its waiting enrolments by step, and its messages by step and state.
struct JourneyCounts {
  std::map<std::string, int64_t> by_state;        // state name -> count
  std::map<std::string, int64_t> by_exit_reason;  // ended: reason -> count
  std::map<std::string, int64_t> entered;         // step -> visits
  std::map<std::string, int64_t> waiting;         // step -> active enrolments there
  std::map<std::string, std::map<std::string, int64_t>> messages;  // step -> state -> count
};

class JourneyRepository
    : public outbox::UnitOfWork<JourneyTx, domain::Journey, domain::Enrollment> {
 public:
  // NOT_FOUND (JOURNEY_NOT_FOUND).
  virtual absl::StatusOr<domain::Journey> GetJourney(const std::string& tenant,
                                                     const std::string& id) = 0;
  virtual absl::StatusOr<std::vector<domain::Journey>> ListJourneys(
      const std::string& tenant) = 0;  // newest first, at most 1,000
  // The tenant's active and paused journeys whose trigger, goal or a wait
  // listens to `kind` (at most 1,000).
  virtual absl::StatusOr<std::vector<domain::Journey>> ListeningJourneys(
      const std::string& tenant, domain::TriggerKind kind) = 0;
  // Newest first; `customer_id` "" for every customer.
  virtual absl::StatusOr<std::vector<EnrollmentView>> ListEnrollments(
      const std::string& tenant, const std::string& journey_id, const std::string& customer_id,
      int limit) = 0;
  virtual absl::StatusOr<JourneyCounts> CountJourney(const std::string& tenant,
                                                     const std::string& journey_id) = 0;
  // The customer's active enrolments in these journeys.
  virtual absl::StatusOr<std::vector<domain::Enrollment>> ActiveEnrollments(
      const std::string& tenant, const std::string& customer_id,
      const std::vector<std::string>& journey_ids) = 0;

  // The runner. Every tenant's active enrolments of active journeys that
  // are due and not leased (at most `limit`, the longest due first).
  struct EnrollmentRef {
    std::string tenant;
    std::string id;
  };
  virtual absl::StatusOr<std::vector<EnrollmentRef>> DueEnrollments(absl::Time now, int limit) = 0;
  // Leases those of `ids` still due and free at `now` until now + lease
  // (version + 1); the leased ones.
  virtual absl::StatusOr<std::vector<domain::Enrollment>> ClaimEnrollments(
      const std::string& tenant, const std::vector<std::string>& ids, absl::Time now,
      absl::Duration lease) = 0;
  // Writes the enrolment as it moved (version + 1) if it is still at
  // `expected_version`, with the visit of the step it entered when its seq
  // grew (`entered`); the lease is kept (`keep_lease`: more steps follow at
  // once) or given back. false when another change came first.
  virtual absl::StatusOr<bool> SaveEnrollment(const std::string& tenant,
                                              const domain::Enrollment& e, int64_t expected_version,
                                              bool entered, bool keep_lease) = 0;
};

}  // namespace crm::delivery::app
