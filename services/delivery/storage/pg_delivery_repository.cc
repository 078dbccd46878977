#include "services/delivery/storage/pg_delivery_repository.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "libs/common/crypto.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "libs/common/status_macros.h"
#include "libs/events/consumer.h"
#include "libs/outbox/unit_of_work.h"
#include "libs/pg/sql.h"
#include "services/delivery/domain/not_found.h"
#include "services/delivery/schema_name.h"
#include "services/delivery/storage/pg_time.h"

namespace crm::delivery::storage {
namespace {

const std::string kMessageColumns = absl::StrCat(
    "message_id::text, customer_id::text, channel, purpose, template_id, locale, "
    "coalesce(endpoint_id::text, ''), offer_count, state, suppression_reason, attempts, "
    "max_attempts, last_error, recipient, provider_id, array_to_string(decision_ids, ','), "
    "request_id, ",
    pg::MicrosColumn("created_at"), ", ", pg::MicrosColumn("updated_at"), ", ",
    pg::MicrosColumn("next_attempt_at"), ", ", pg::MicrosColumn("sent_at"),
    ", coalesce(campaign_id::text, ''), variant_id, array_to_json(links)::text, open_count, "
    "click_count, ",
    pg::MicrosColumn("first_open_at"), ", ", pg::MicrosColumn("first_click_at"), ", ",
    pg::MicrosColumn("unsubscribed_at"), ", ", pg::MicrosColumn("last_open_at"), ", ",
    pg::MicrosColumn("last_click_at"), ", receipt, ", pg::MicrosColumn("receipt_at"),
    ", receipt_detail, array_to_json(offer_ids)::text, coalesce(ticket_id::text, ''), "
    "coalesce(ticket_mail_id::text, '')");
constexpr int kMessageColumnCount = 37;

const pg::NamedQuery kInsertMessage{
    "delivery_insert_message",
    absl::StrCat("INSERT INTO delivery.messages (tenant_id, message_id, customer_id, channel, "
                 "purpose, template_id, locale, endpoint_id, offer_count, state, max_attempts, "
                 "request_id, created_at, updated_at, next_attempt_at, enqueued_at, ticket_id, "
                 "ticket_mail_id) VALUES ($1, $2::uuid, $3::uuid, $4, $5, $6, $7, $8::uuid, $9, "
                 "$10, $11, $12, ",
                 pg::MicrosParam(13), ", ", pg::MicrosParam(13), ", ", pg::MicrosParam(14),
                 ", now(), NULLIF($15, '')::uuid, NULLIF($16, '')::uuid)"),
    0};
const pg::NamedQuery kSelectMessage{
    "delivery_select_message",
    absl::StrCat("SELECT ", kMessageColumns,
                 " FROM delivery.messages WHERE tenant_id = $1 AND message_id = $2::uuid"),
    kMessageColumnCount};
const pg::NamedQuery kMessageForUpdate{
    "delivery_message_for_update",
    absl::StrCat("SELECT ", kMessageColumns,
                 " FROM delivery.messages WHERE tenant_id = $1 AND message_id = $2::uuid "
                 "FOR UPDATE"),
    kMessageColumnCount};
// The row's changing part. enqueued_at: a queued row is put on the queue
// by the caller now; a retrying one waits for the sweeper.
const std::string kSetChanging = absl::StrCat(
    "state = $3, suppression_reason = $4, attempts = $5, max_attempts = $6, last_error = $7, "
    "recipient = $8, provider_id = $9, decision_ids = $10::text[], updated_at = ",
    pg::MicrosParam(11), ", next_attempt_at = ", pg::MicrosParam(12),
    ", sent_at = ", pg::MicrosParam(13), ", enqueued_at = CASE WHEN $3 = 'queued' AND ",
    pg::MicrosParam(12),
    " <= now() THEN now() ELSE NULL END, claimed_until = NULL, links = $14::text[], offer_ids = "
    "$15::text[]");
const pg::NamedQuery kSaveMessage{"delivery_save_message",
                                  absl::StrCat("UPDATE delivery.messages SET ", kSetChanging,
                                               " WHERE tenant_id = $1 AND message_id = $2::uuid"),
                                  0};
const pg::NamedQuery kFinishMessage{
    "delivery_finish_message",
    absl::StrCat("UPDATE delivery.messages SET ", kSetChanging,
                 " WHERE tenant_id = $1 AND message_id = $2::uuid AND state = 'sending' AND "
                 "attempts = $16 RETURNING 1"),
    1};
// A frequency cap's count: the customer's marketing messages on the channel
// sent in the window or being sent, the one being claimed aside. Under a
// lock per customer and channel (kCapLock), so two claims cannot both pass.
const pg::NamedQuery kCapLock{
    "delivery_cap_lock",
    "SELECT 1 FROM pg_advisory_xact_lock(hashtextextended($1 || '/' || $2 || '/' || $3, 0))", 1};
const pg::NamedQuery kCapCount{
    "delivery_cap_count",
    "SELECT count(*) FROM delivery.messages WHERE tenant_id = $1 AND customer_id = $2::uuid AND "
    "channel = $3 AND purpose = 'marketing' AND message_id <> $5::uuid AND ((state = 'sent' AND "
    "sent_at > now() - $4::int8 * interval '1 microsecond') OR state = 'sending')",
    1};
const pg::NamedQuery kSelectPolicy{
    "delivery_select_policy",
    absl::StrCat("SELECT definition::text, version, ", pg::MicrosColumn("updated_at"),
                 " FROM delivery.policies WHERE tenant_id = $1"),
    3};
const pg::NamedQuery kPolicyForUpdate{
    "delivery_policy_for_update",
    absl::StrCat("SELECT definition::text, version, ", pg::MicrosColumn("updated_at"),
                 " FROM delivery.policies WHERE tenant_id = $1 FOR UPDATE"),
    3};
const pg::NamedQuery kSavePolicy{
    "delivery_save_policy",
    absl::StrCat("INSERT INTO delivery.policies (tenant_id, definition, version, updated_at) "
                 "VALUES ($1, $2::jsonb, $3, ",
                 pg::MicrosParam(4),
                 ") ON CONFLICT (tenant_id) DO UPDATE SET definition = EXCLUDED.definition, "
                 "version = EXCLUDED.version, updated_at = EXCLUDED.updated_at"),
    0};
const pg::NamedQuery kClaimMessage{
    "delivery_claim_message",
    absl::StrCat("UPDATE delivery.messages SET state = 'sending', attempts = attempts + 1, "
                 "claimed_until = now() + $3::int8 * interval '1 microsecond', updated_at = now(), "
                 "send_started_at = NULL "
                 "WHERE tenant_id = $1 AND message_id = ANY($2::uuid[]) AND state IN ('queued', "
                 "'retrying') AND next_attempt_at <= now() AND (campaign_id IS NULL OR EXISTS "
                 "(SELECT 1 FROM delivery.campaigns c WHERE c.tenant_id = $1 AND c.campaign_id = "
                 "delivery.messages.campaign_id AND c.state IN ('running', 'scheduled', "
                 "'completed'))) RETURNING ",
                 kMessageColumns),
    kMessageColumnCount};
const pg::NamedQuery kCustomerMessagesFirst{
    "delivery_customer_messages_first",
    absl::StrCat("SELECT ", kMessageColumns,
                 " FROM delivery.messages WHERE tenant_id = $1 AND customer_id = $2::uuid "
                 "ORDER BY created_at DESC, message_id DESC LIMIT $3"),
    kMessageColumnCount};
const pg::NamedQuery kCustomerMessagesNext{
    "delivery_customer_messages_next",
    absl::StrCat("SELECT ", kMessageColumns,
                 " FROM delivery.messages WHERE tenant_id = $1 AND customer_id = $2::uuid AND "
                 "(created_at, message_id) < (",
                 pg::MicrosParam(4),
                 ", $5::uuid) ORDER BY created_at DESC, message_id DESC LIMIT $3"),
    kMessageColumnCount};
const pg::NamedQuery kStateMessagesFirst{
    "delivery_state_messages_first",
    absl::StrCat("SELECT ", kMessageColumns,
                 " FROM delivery.messages WHERE tenant_id = $1 AND state = $2 "
                 "ORDER BY created_at DESC, message_id DESC LIMIT $3"),
    kMessageColumnCount};
const pg::NamedQuery kStateMessagesNext{
    "delivery_state_messages_next",
    absl::StrCat("SELECT ", kMessageColumns,
                 " FROM delivery.messages WHERE tenant_id = $1 AND state = $2 AND "
                 "(created_at, message_id) < (",
                 pg::MicrosParam(4),
                 ", $5::uuid) ORDER BY created_at DESC, message_id DESC LIMIT $3"),
    kMessageColumnCount};
const pg::NamedQuery kSchedulerOn{"delivery_scheduler_on",
                                  "SELECT set_config('app.scheduler', 'on', true)", 1};
const pg::NamedQuery kSelectDue{
    "delivery_select_due",
    "SELECT tenant_id::text, message_id::text FROM delivery.messages WHERE state IN ('queued', "
    "'retrying') AND next_attempt_at <= now() AND (enqueued_at IS NULL OR enqueued_at < now() - "
    "$1::int8 * interval '1 microsecond') AND (campaign_id IS NULL OR EXISTS (SELECT 1 FROM "
    "delivery.campaigns c WHERE c.tenant_id = delivery.messages.tenant_id AND c.campaign_id = "
    "delivery.messages.campaign_id AND c.state IN ('running', 'scheduled', 'completed'))) ORDER "
    "BY next_attempt_at LIMIT $2",
    2};
const pg::NamedQuery kMarkEnqueued{
    "delivery_mark_enqueued",
    "UPDATE delivery.messages SET enqueued_at = now() WHERE tenant_id = $1 AND message_id = "
    "ANY($2::uuid[]) AND state IN ('queued', 'retrying')",
    0};
const pg::NamedQuery kSelectLostClaims{
    "delivery_select_lost_claims",
    "SELECT tenant_id::text, message_id::text FROM delivery.messages WHERE state = 'sending' AND "
    "claimed_until < now() ORDER BY claimed_until LIMIT $1",
    2};
const pg::NamedQuery kClaimStillLost{
    "delivery_claim_still_lost",
    "SELECT send_started_at IS NOT NULL FROM delivery.messages WHERE tenant_id = $1 AND "
    "message_id = $2::uuid AND state = 'sending' AND claimed_until < now() FOR UPDATE",
    1};
const pg::NamedQuery kMarkSendStarted{
    "delivery_mark_send_started",
    "UPDATE delivery.messages SET send_started_at = now() WHERE tenant_id = $1 AND message_id = "
    "$2::uuid AND state = 'sending' AND attempts = $3 RETURNING 1",
    1};

// The suppression list (docs/delivery.md, "Bounces and complaints").
const pg::NamedQuery kSaveSuppression{
    "delivery_save_suppression",
    absl::StrCat("INSERT INTO delivery.suppressions (tenant_id, channel, address, reason, detail, "
                 "message_id, created_at) VALUES ($1, $2, $3, $4, $5, nullif($6, '')::uuid, ",
                 pg::MicrosParam(7), ") ON CONFLICT (tenant_id, channel, address) DO NOTHING"),
    0};
const pg::NamedQuery kDeleteSuppression{
    "delivery_delete_suppression",
    "DELETE FROM delivery.suppressions WHERE tenant_id = $1 AND channel = $2 AND address = $3 "
    "RETURNING 1",
    1};
const std::string kSuppressionColumns = absl::StrCat(
    "address, reason, detail, coalesce(message_id::text, ''), ", pg::MicrosColumn("created_at"));
const pg::NamedQuery kListSuppressions{
    "delivery_list_suppressions",
    absl::StrCat("SELECT ", kSuppressionColumns,
                 " FROM delivery.suppressions WHERE tenant_id = $1 AND channel = $2 AND ($4 = '' "
                 "OR (created_at, address) < (",
                 pg::MicrosParam(5), ", $4)) ORDER BY created_at DESC, address DESC LIMIT $3"),
    5};
const pg::NamedQuery kSuppressedAmong{
    "delivery_suppressed_among",
    "SELECT address FROM delivery.suppressions WHERE tenant_id = $1 AND channel = $2 AND address "
    "= ANY($3::text[])",
    1};

const std::string kEndpointColumns = absl::StrCat(
    "endpoint_id::text, url, description, secret_sealed, timeout_ms, max_concurrency, ",
    pg::MicrosColumn("created_at"));
const pg::NamedQuery kInsertEndpoint{
    "delivery_insert_endpoint",
    absl::StrCat("INSERT INTO delivery.webhook_endpoints (tenant_id, endpoint_id, url, "
                 "description, secret_sealed, timeout_ms, max_concurrency, created_at) VALUES ($1, "
                 "$2::uuid, $3, $4, $5, $6, $7, ",
                 pg::MicrosParam(8), ")"),
    0};
const pg::NamedQuery kSelectEndpoint{
    "delivery_select_endpoint",
    absl::StrCat(
        "SELECT ", kEndpointColumns,
        " FROM delivery.webhook_endpoints WHERE tenant_id = $1 AND endpoint_id = $2::uuid"),
    7};
const pg::NamedQuery kListEndpoints{
    "delivery_list_endpoints",
    absl::StrCat("SELECT ", kEndpointColumns,
                 " FROM delivery.webhook_endpoints WHERE tenant_id = $1 ORDER BY created_at, "
                 "endpoint_id"),
    7};
const pg::NamedQuery kCountEndpoints{
    "delivery_count_endpoints",
    "SELECT count(*) FROM delivery.webhook_endpoints WHERE tenant_id = $1", 1};
const pg::NamedQuery kDeleteEndpoint{
    "delivery_delete_endpoint",
    "DELETE FROM delivery.webhook_endpoints WHERE tenant_id = $1 AND endpoint_id = $2::uuid "
    "RETURNING 1",
    1};
const pg::NamedQuery kSelectSender{
    "delivery_select_sender",
    absl::StrCat("SELECT from_address, from_name, reply_to_address, ",
                 pg::MicrosColumn("updated_at"),
                 " FROM delivery.sender_settings WHERE tenant_id = $1"),
    4};
const pg::NamedQuery kSaveSender{
    "delivery_save_sender",
    absl::StrCat("INSERT INTO delivery.sender_settings (tenant_id, from_address, from_name, "
                 "reply_to_address, updated_at) VALUES ($1, $2, $3, $4, ",
                 pg::MicrosParam(5),
                 ") ON CONFLICT (tenant_id) DO UPDATE SET from_address = EXCLUDED.from_address, "
                 "from_name = EXCLUDED.from_name, reply_to_address = "
                 "EXCLUDED.reply_to_address, updated_at = EXCLUDED.updated_at"),
    0};

const std::string kProviderColumns =
    absl::StrCat("channel, kind, base_url, account, sender, secret_sealed, version, ",
                 pg::MicrosColumn("updated_at"));
const pg::NamedQuery kSelectProvider{
    "delivery_select_provider",
    absl::StrCat("SELECT ", kProviderColumns,
                 " FROM delivery.channel_providers WHERE tenant_id = $1 AND channel = $2"),
    8};
const pg::NamedQuery kProviderForUpdate{
    "delivery_provider_for_update",
    absl::StrCat("SELECT ", kProviderColumns,
                 " FROM delivery.channel_providers WHERE tenant_id = $1 AND channel = $2 FOR "
                 "UPDATE"),
    8};
const pg::NamedQuery kListProviders{
    "delivery_list_providers",
    absl::StrCat("SELECT ", kProviderColumns,
                 " FROM delivery.channel_providers WHERE tenant_id = $1 ORDER BY channel"),
    8};
const pg::NamedQuery kSaveProvider{
    "delivery_save_provider",
    absl::StrCat("INSERT INTO delivery.channel_providers (tenant_id, channel, kind, base_url, "
                 "account, sender, secret_sealed, version, updated_at) VALUES ($1, $2, $3, $4, "
                 "$5, $6, $7, $8, ",
                 pg::MicrosParam(9),
                 ") ON CONFLICT (tenant_id, channel) DO UPDATE SET kind = EXCLUDED.kind, base_url "
                 "= EXCLUDED.base_url, account = EXCLUDED.account, sender = EXCLUDED.sender, "
                 "secret_sealed = EXCLUDED.secret_sealed, version = EXCLUDED.version, updated_at "
                 "= EXCLUDED.updated_at"),
    0};
const pg::NamedQuery kDeleteProvider{
    "delivery_delete_provider",
    "DELETE FROM delivery.channel_providers WHERE tenant_id = $1 AND channel = $2 RETURNING 1", 1};

const std::string kCampaignColumns = absl::StrCat(
    "campaign_id::text, definition::text, state, version, ", pg::MicrosColumn("start_at"), ", ",
    pg::MicrosColumn("started_at"), ", ", pg::MicrosColumn("completed_at"),
    ", expansion_cursor, expanded, targeted, ", pg::MicrosColumn("pace_start"), ", paced, ",
    pg::MicrosColumn("created_at"), ", ", pg::MicrosColumn("updated_at"), ", occurrence");
constexpr int kCampaignColumnCount = 15;
const pg::NamedQuery kSelectCampaign{
    "delivery_select_campaign",
    absl::StrCat("SELECT ", kCampaignColumns,
                 " FROM delivery.campaigns WHERE tenant_id = $1 AND campaign_id = $2::uuid"),
    kCampaignColumnCount};
const pg::NamedQuery kCampaignForUpdate{
    "delivery_campaign_for_update",
    absl::StrCat("SELECT ", kCampaignColumns,
                 " FROM delivery.campaigns WHERE tenant_id = $1 AND campaign_id = $2::uuid "
                 "FOR UPDATE"),
    kCampaignColumnCount};
const pg::NamedQuery kListCampaigns{
    "delivery_list_campaigns",
    absl::StrCat("SELECT ", kCampaignColumns,
                 " FROM delivery.campaigns WHERE tenant_id = $1 ORDER BY created_at DESC, "
                 "campaign_id DESC LIMIT 1000"),
    kCampaignColumnCount};
const pg::NamedQuery kTriggeredCampaigns{
    "delivery_triggered_campaigns",
    absl::StrCat("SELECT ", kCampaignColumns,
                 " FROM delivery.campaigns WHERE tenant_id = $1 AND state = 'running' AND "
                 "definition->'trigger'->>'kind' = $2 ORDER BY campaign_id LIMIT 1000"),
    kCampaignColumnCount};
const pg::NamedQuery kSaveCampaign{
    "delivery_save_campaign",
    absl::StrCat(
        "INSERT INTO delivery.campaigns (tenant_id, campaign_id, definition, state, version, "
        "start_at, started_at, completed_at, expansion_cursor, expanded, targeted, pace_start, "
        "paced, created_at, updated_at, occurrence) VALUES ($1, $2::uuid, $3::jsonb, $4, $5, ",
        pg::MicrosParam(6), ", ", pg::MicrosParam(7), ", ", pg::MicrosParam(8), ", $9, $10, $11, ",
        pg::MicrosParam(12), ", $13, ", pg::MicrosParam(14), ", ", pg::MicrosParam(15),
        ", $16) ON CONFLICT (tenant_id, campaign_id) DO UPDATE SET definition = "
        "EXCLUDED.definition, "
        "state = EXCLUDED.state, version = EXCLUDED.version, start_at = EXCLUDED.start_at, "
        "started_at = EXCLUDED.started_at, completed_at = EXCLUDED.completed_at, "
        "expansion_cursor = EXCLUDED.expansion_cursor, expanded = EXCLUDED.expanded, "
        "targeted = EXCLUDED.targeted, pace_start = EXCLUDED.pace_start, paced = EXCLUDED.paced, "
        "updated_at = EXCLUDED.updated_at, occurrence = EXCLUDED.occurrence"),
    0};
const pg::NamedQuery kInsertCampaignMessages{
    "delivery_insert_campaign_messages",
    "INSERT INTO delivery.messages (tenant_id, message_id, customer_id, channel, purpose, "
    "template_id, locale, endpoint_id, offer_count, state, suppression_reason, max_attempts, "
    "request_id, created_at, updated_at, next_attempt_at, enqueued_at, campaign_id, variant_id) "
    "SELECT $1, u.id, u.customer, $2, $3, u.template, '', $4::uuid, $5, u.state, u.reason, $6, "
    "u.request_id, now(), now(), CASE WHEN u.state = 'queued' THEN 'epoch'::timestamptz + "
    "u.next_us * interval '1 microsecond' END, CASE WHEN u.state = 'queued' AND "
    "'epoch'::timestamptz + u.next_us * interval '1 microsecond' <= now() THEN now() END, "
    "$7::uuid, u.variant FROM unnest($8::uuid[], $9::uuid[], $10::text[], $11::text[], "
    "$12::text[], $13::text[], $14::int8[], $15::text[]) AS u(id, customer, template, state, "
    "reason, request_id, next_us, variant) ON CONFLICT (tenant_id, request_id) DO NOTHING "
    "RETURNING message_id::text",
    1};
const pg::NamedQuery kCancelCampaignMessages{
    "delivery_cancel_campaign_messages",
    "UPDATE delivery.messages SET state = 'cancelled', next_attempt_at = NULL, enqueued_at = "
    "NULL, updated_at = now() WHERE tenant_id = $1 AND campaign_id = $2::uuid AND state IN "
    "('queued', 'retrying')",
    0};
const pg::NamedQuery kPostponePending{
    "delivery_postpone_pending",
    absl::StrCat("UPDATE delivery.messages SET next_attempt_at = greatest(next_attempt_at, ",
                 pg::MicrosParam(4),
                 "), updated_at = now() WHERE tenant_id = $1 AND campaign_id = $2::uuid AND "
                 "customer_id = $3::uuid AND state = 'queued' RETURNING 1"),
    1};
const pg::NamedQuery kSuppressPending{
    "delivery_suppress_pending",
    absl::StrCat("UPDATE delivery.messages SET state = 'suppressed', suppression_reason = $5, "
                 "last_error = $6, next_attempt_at = NULL, enqueued_at = NULL, updated_at = now() "
                 "WHERE tenant_id = $1 AND campaign_id = $2::uuid AND customer_id = $3::uuid AND "
                 "state IN ('queued', 'retrying') AND next_attempt_at <= ",
                 pg::MicrosParam(4), " RETURNING ", kMessageColumns),
    kMessageColumnCount};
const pg::NamedQuery kRespaceCampaignMessages{
    "delivery_respace_campaign_messages",
    absl::StrCat("WITH o AS (SELECT message_id, row_number() OVER (ORDER BY next_attempt_at, "
                 "message_id) - 1 AS i FROM delivery.messages WHERE tenant_id = $1 AND "
                 "campaign_id = $2::uuid AND state IN ('queued', 'retrying')) UPDATE "
                 "delivery.messages m SET next_attempt_at = ",
                 pg::MicrosParam(3),
                 " + CASE WHEN $4::int > 0 THEN (o.i * 1000000 / $4::int) * interval '1 "
                 "microsecond' ELSE interval '0' END, enqueued_at = NULL FROM o WHERE "
                 "m.tenant_id = $1 AND m.message_id = o.message_id"),
    0};
const pg::NamedQuery kCountOpenCampaignMessages{
    "delivery_count_open_campaign_messages",
    "SELECT count(*) FROM delivery.messages WHERE tenant_id = $1 AND campaign_id = $2::uuid AND "
    "state IN ('queued', 'sending', 'retrying')",
    1};
const pg::NamedQuery kCountCampaignMessages{
    "delivery_count_campaign_messages",
    "SELECT variant_id, state, suppression_reason, count(*), count(first_open_at), "
    "count(first_click_at), count(unsubscribed_at), count(*) FILTER (WHERE receipt = "
    "'delivered'), count(*) FILTER (WHERE receipt = 'bounced') FROM delivery.messages WHERE "
    "tenant_id = $1 AND campaign_id = $2::uuid GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    9};
// Offers: the sent messages carrying each, and the orders credited to them
// by currency.
const pg::NamedQuery kCountCampaignOffers{
    "delivery_count_campaign_offers",
    "WITH o AS (SELECT message_id, unnest(offer_ids) AS offer_id FROM delivery.messages WHERE "
    "tenant_id = $1 AND campaign_id = $2::uuid AND state = 'sent') SELECT offer_id, ''::text, "
    "count(DISTINCT message_id), 0::int8 FROM o GROUP BY 1 UNION ALL SELECT o.offer_id, "
    "c.currency_code, count(DISTINCT c.message_id), sum(c.revenue_minor)::int8 FROM o JOIN "
    "delivery.conversions c ON c.tenant_id = $1 AND c.message_id = o.message_id AND c.kind = "
    "'credited' GROUP BY 1, 2 ORDER BY 1, 2",
    4};
const pg::NamedQuery kSaveEngagement{
    "delivery_save_engagement",
    absl::StrCat("UPDATE delivery.messages SET open_count = $3, click_count = $4, first_open_at = ",
                 pg::MicrosParam(5), ", first_click_at = ", pg::MicrosParam(6),
                 ", unsubscribed_at = ", pg::MicrosParam(7),
                 ", last_open_at = ", pg::MicrosParam(8), ", last_click_at = ", pg::MicrosParam(9),
                 ", receipt = $10, receipt_at = ", pg::MicrosParam(11),
                 ", receipt_detail = $12 WHERE tenant_id = $1 AND message_id = $2::uuid"),
    0};
// Conversions (app/conversions.h).
const pg::NamedQuery kLoadTouches{
    "delivery_load_touches",
    absl::StrCat("SELECT message_id::text, ", pg::MicrosColumn("first_click_at"), ", ",
                 pg::MicrosColumn("last_click_at"), ", ", pg::MicrosColumn("first_open_at"), ", ",
                 pg::MicrosColumn("last_open_at"),
                 " FROM delivery.messages WHERE tenant_id = $1 AND customer_id = $2::uuid AND "
                 "state = 'sent' AND (last_click_at IS NOT NULL OR last_open_at IS NOT NULL) AND "
                 "greatest(last_click_at, last_open_at) >= ",
                 pg::MicrosParam(3), " ORDER BY message_id LIMIT 1000"),
    5};
const pg::NamedQuery kLoadExposures{
    "delivery_load_exposures",
    absl::StrCat("SELECT message_id::text FROM delivery.messages WHERE tenant_id = $1 AND "
                 "customer_id = $2::uuid AND campaign_id IS NOT NULL AND state IN ('sent', "
                 "'suppressed', 'failed', 'unknown') AND coalesce(sent_at, updated_at) BETWEEN ",
                 pg::MicrosParam(3), " AND ", pg::MicrosParam(4),
                 " ORDER BY message_id LIMIT 1000"),
    1};
const pg::NamedQuery kCreditedMessage{
    "delivery_credited_message",
    "SELECT message_id::text FROM delivery.conversions WHERE tenant_id = $1 AND order_id = $2 "
    "AND kind = 'credited' LIMIT 1",
    1};
const pg::NamedQuery kSaveConversion{
    "delivery_save_conversion",
    absl::StrCat(
        "INSERT INTO delivery.conversions AS c (tenant_id, order_id, message_id, kind, "
        "customer_id, campaign_id, variant_id, currency_code, revenue_minor, order_version, "
        "order_time) SELECT $1::uuid, $2::text, m.message_id, $4::text, m.customer_id, "
        "m.campaign_id, m.variant_id, $5::text, $6::int8, $7::int8, ",
        pg::MicrosParam(8),
        " FROM delivery.messages m WHERE m.tenant_id = $1 AND m.message_id = $3::uuid ON "
        "CONFLICT (tenant_id, order_id, message_id, kind) DO UPDATE SET currency_code = "
        "EXCLUDED.currency_code, revenue_minor = EXCLUDED.revenue_minor, order_version = "
        "EXCLUDED.order_version WHERE c.order_version < EXCLUDED.order_version RETURNING (xmax = "
        "0)"),
    1};
const pg::NamedQuery kDeleteConversions{
    "delivery_delete_conversions",
    "DELETE FROM delivery.conversions WHERE tenant_id = $1 AND order_id = $2", 0};
// Distinct messages per (variant, kind) (currency NULL), revenue per
// (variant, kind, currency).
const pg::NamedQuery kCountCampaignConversions{
    "delivery_count_campaign_conversions",
    "SELECT variant_id, kind, currency_code, count(DISTINCT message_id), sum(revenue_minor) FROM "
    "delivery.conversions WHERE tenant_id = $1 AND campaign_id = $2::uuid GROUP BY GROUPING SETS "
    "((variant_id, kind), (variant_id, kind, currency_code)) ORDER BY 1, 2, 3 NULLS FIRST",
    5};
const pg::NamedQuery kActiveCampaigns{
    "delivery_active_campaigns",
    "SELECT tenant_id::text, campaign_id::text FROM delivery.campaigns WHERE (state = "
    "'scheduled' AND start_at <= now()) OR state = 'running' ORDER BY updated_at LIMIT $1",
    2};

const pg::NamedQuery kEraseCustomers{
    "delivery_erase_customers",
    "WITH c AS (DELETE FROM delivery.conversions WHERE tenant_id = $1 AND customer_id = "
    "ANY($2::uuid[])), e AS (DELETE FROM delivery.journey_enrollments WHERE tenant_id = $1 AND "
    "customer_id = ANY($2::uuid[]) RETURNING enrollment_id), s AS (DELETE FROM "
    "delivery.journey_steps WHERE tenant_id = $1 AND enrollment_id IN (SELECT enrollment_id FROM "
    "e)) DELETE FROM delivery.messages WHERE tenant_id = $1 AND customer_id = ANY($2::uuid[])",
    0};

absl::StatusOr<domain::Message> MessageOf(const pqxx::row& r) {
  domain::Message m;
  m.id = r[0].as<std::string>();
  m.customer_id = r[1].as<std::string>();
  std::optional<domain::Channel> channel = domain::ChannelFromName(r[2].as<std::string>());
  std::optional<domain::Purpose> purpose = domain::PurposeFromName(r[3].as<std::string>());
  std::optional<domain::State> state = domain::StateFromName(r[8].as<std::string>());
  std::optional<domain::Suppression> suppression =
      domain::SuppressionFromName(r[9].as<std::string>());
  if (!channel || !purpose || !state || !suppression) {
    return absl::DataLossError("stored message unreadable");
  }
  m.channel = *channel;
  m.purpose = *purpose;
  m.template_id = r[4].as<std::string>();
  m.locale = r[5].as<std::string>();
  m.endpoint_id = r[6].as<std::string>();
  m.offer_count = r[7].as<int>();
  m.state = *state;
  m.suppression = *suppression;
  m.attempts = r[10].as<int>();
  m.max_attempts = r[11].as<int>();
  m.last_error = r[12].as<std::string>();
  m.recipient = r[13].as<std::string>();
  m.provider_id = r[14].as<std::string>();
  const std::string decisions = r[15].as<std::string>();
  if (!decisions.empty()) m.decision_ids = absl::StrSplit(decisions, ',');
  m.request_id = r[16].as<std::string>();
  m.campaign_id = r[21].as<std::string>();
  m.variant_id = r[22].as<std::string>();
  m.create_time = absl::FromUnixMicros(r[17].as<int64_t>());
  m.update_time = absl::FromUnixMicros(r[18].as<int64_t>());
  m.next_attempt_time = OptionalTime(r[19]);
  m.send_time = OptionalTime(r[20]);
  try {
    m.links = nlohmann::json::parse(r[23].as<std::string>()).get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception&) {
    return absl::DataLossError("stored message unreadable");
  }
  m.open_count = r[24].as<int>();
  m.click_count = r[25].as<int>();
  m.first_open_time = OptionalTime(r[26]);
  m.first_click_time = OptionalTime(r[27]);
  m.unsubscribe_time = OptionalTime(r[28]);
  m.last_open_time = OptionalTime(r[29]);
  m.last_click_time = OptionalTime(r[30]);
  m.receipt = domain::ReceiptFromName(r[31].as<std::string>()).value_or(domain::Receipt::kNone);
  m.receipt_time = OptionalTime(r[32]);
  m.receipt_detail = r[33].as<std::string>();
  m.offer_ids = nlohmann::json::parse(r[34].as<std::string>()).get<std::vector<std::string>>();
  m.ticket_id = r[35].as<std::string>();
  m.ticket_mail_id = r[36].as<std::string>();
  return m;
}

// The changing part's parameters $3..$14 after tenant and id, then `extra`
// (the finish's guard, $16).
template <typename... Extra>
pqxx::result SaveChanging(pg::Pool& pool, pqxx::work& tx, const pg::NamedQuery& q,
                          const std::string& tenant, const domain::Message& m, Extra&&... extra) {
  return pool.Exec(tx, q, tenant, m.id, std::string(domain::StateName(m.state)),
                   std::string(domain::SuppressionName(m.suppression)), m.attempts, m.max_attempts,
                   m.last_error, m.recipient, m.provider_id, pg::TextArrayLiteral(m.decision_ids),
                   absl::ToUnixMicros(m.update_time), MicrosOf(m.next_attempt_time),
                   MicrosOf(m.send_time), pg::TextArrayLiteral(m.links),
                   pg::TextArrayLiteral(m.offer_ids), std::forward<Extra>(extra)...);
}

nlohmann::json PolicyJson(const domain::DeliveryPolicy& p) {
  nlohmann::json caps = nlohmann::json::array();
  for (const domain::FrequencyCap& c : p.caps) {
    caps.push_back({{"channel", domain::ChannelName(c.channel)},
                    {"max", c.max_messages},
                    {"window_s", absl::ToInt64Seconds(c.window)}});
  }
  nlohmann::json j{{"caps", caps},
                   {"quiet_hours", nullptr},
                   {"attribution",
                    {{"window_s", absl::ToInt64Seconds(p.attribution.window)},
                     {"opens", p.attribution.opens_count}}}};
  if (p.quiet_hours) {
    j["quiet_hours"] = {{"start", p.quiet_hours->start_minute},
                        {"end", p.quiet_hours->end_minute},
                        {"tz", p.quiet_hours->default_time_zone}};
  }
  return j;
}

absl::StatusOr<domain::DeliveryPolicy> PolicyOf(const pqxx::row& r) {
  return outbox::ParseJsonAnswer<domain::DeliveryPolicy>(
      r[0].as<std::string>(),
      [&](const nlohmann::json& j, bool& ok) {
        domain::DeliveryPolicy p;
        for (const auto& c : j.at("caps")) {
          std::optional<domain::Channel> ch =
              domain::ChannelFromName(c.at("channel").get<std::string>());
          if (!ch) ok = false;
          p.caps.push_back({ch.value_or(domain::Channel::kEmail), c.at("max").get<int>(),
                            absl::Seconds(c.at("window_s").get<int64_t>())});
        }
        if (!j.at("quiet_hours").is_null()) {
          const auto& q = j.at("quiet_hours");
          p.quiet_hours = domain::QuietHours{q.at("start").get<int>(), q.at("end").get<int>(),
                                             q.at("tz").get<std::string>()};
        }
        // Policies written before attribution existed have the defaults.
        if (j.contains("attribution")) {
          p.attribution.window = absl::Seconds(j.at("attribution").at("window_s").get<int64_t>());
          p.attribution.opens_count = j.at("attribution").at("opens").get<bool>();
        }
        p.version = r[1].as<int64_t>();
        p.update_time = absl::FromUnixMicros(r[2].as<int64_t>());
        return p;
      },
      "stored delivery policy unreadable");
}

nlohmann::json CampaignJson(const domain::Campaign& c) {
  nlohmann::json variants = nlohmann::json::array();
  for (const domain::Variant& v : c.variants) {
    variants.push_back({{"id", v.id}, {"template_id", v.template_id}, {"weight", v.weight}});
  }
  return {{"name", c.name},
          {"channel", domain::ChannelName(c.channel)},
          {"purpose", domain::PurposeName(c.purpose)},
          {"endpoint_id", c.endpoint_id},
          {"segment_id", c.audience.segment_id},
          {"customer_ids", c.audience.customer_ids},
          {"variants", variants},
          {"holdout_bp", c.holdout_bp},
          {"throttle", c.throttle_per_second},
          {"offer_count", c.offer_count},
          {"cost_minor", c.cost_per_message_minor},
          {"cost_currency", c.cost_currency_code},
          {"trigger",
           {{"kind", domain::TriggerKindName(c.trigger.kind)},
            {"segment_id", c.trigger.segment_id},
            {"delay_s", absl::ToInt64Seconds(c.trigger.delay)},
            {"every_time", c.trigger.reentry == domain::Reentry::kEveryTime}}},
          {"recurrence",
           {{"interval_s", absl::ToInt64Seconds(c.recurrence.interval)},
            {"end_us",
             c.recurrence.end_time ? absl::ToUnixMicros(*c.recurrence.end_time) : int64_t{0}}}}};
}

absl::StatusOr<domain::Campaign> CampaignOf(const pqxx::row& r) {
  return outbox::ParseJsonAnswer<domain::Campaign>(
      r[1].as<std::string>(),
      [&](const nlohmann::json& j, bool& ok) {
        domain::Campaign c;
        c.id = r[0].as<std::string>();
        c.name = j.at("name").get<std::string>();
        std::optional<domain::Channel> ch =
            domain::ChannelFromName(j.at("channel").get<std::string>());
        std::optional<domain::Purpose> pu =
            domain::PurposeFromName(j.at("purpose").get<std::string>());
        std::optional<domain::CampaignState> st =
            domain::CampaignStateFromName(r[2].as<std::string>());
        if (!ch || !pu || !st) ok = false;
        c.channel = ch.value_or(domain::Channel::kEmail);
        c.purpose = pu.value_or(domain::Purpose::kMarketing);
        c.state = st.value_or(domain::CampaignState::kDraft);
        c.endpoint_id = j.at("endpoint_id").get<std::string>();
        c.audience.segment_id = j.at("segment_id").get<std::string>();
        c.audience.customer_ids = j.at("customer_ids").get<std::vector<std::string>>();
        for (const auto& v : j.at("variants")) {
          c.variants.push_back({v.at("id").get<std::string>(),
                                v.at("template_id").get<std::string>(),
                                v.at("weight").get<uint32_t>()});
        }
        c.holdout_bp = j.at("holdout_bp").get<uint32_t>();
        c.throttle_per_second = j.at("throttle").get<int>();
        c.offer_count = j.at("offer_count").get<int>();
        // Campaigns written before costs existed have none.
        c.cost_per_message_minor = j.value("cost_minor", int64_t{0});
        c.cost_currency_code = j.value("cost_currency", std::string());
        if (j.contains("trigger")) {
          const nlohmann::json& t = j.at("trigger");
          std::optional<domain::TriggerKind> kind =
              domain::TriggerKindFromName(t.at("kind").get<std::string>());
          if (!kind) ok = false;
          c.trigger.kind = kind.value_or(domain::TriggerKind::kNone);
          c.trigger.segment_id = t.at("segment_id").get<std::string>();
          c.trigger.delay = absl::Seconds(t.at("delay_s").get<int64_t>());
          c.trigger.reentry =
              t.at("every_time").get<bool>() ? domain::Reentry::kEveryTime : domain::Reentry::kOnce;
        }
        c.version = r[3].as<int64_t>();
        c.start_time = OptionalTime(r[4]);
        c.started_time = OptionalTime(r[5]);
        c.completed_time = OptionalTime(r[6]);
        c.cursor = r[7].as<std::string>();
        c.expanded = r[8].as<bool>();
        c.targeted = r[9].as<int64_t>();
        c.pace_start = OptionalTime(r[10]);
        c.paced = r[11].as<int64_t>();
        c.create_time = absl::FromUnixMicros(r[12].as<int64_t>());
        c.update_time = absl::FromUnixMicros(r[13].as<int64_t>());
        c.occurrence = r[14].as<int>();
        // Campaigns written before recurrence existed run once.
        if (j.contains("recurrence")) {
          const nlohmann::json& rec = j.at("recurrence");
          c.recurrence.interval = absl::Seconds(rec.at("interval_s").get<int64_t>());
          const int64_t end_us = rec.at("end_us").get<int64_t>();
          if (end_us != 0) c.recurrence.end_time = absl::FromUnixMicros(end_us);
        }
        return c;
      },
      "stored campaign unreadable");
}

std::string EventPayload(const domain::Message& m) {
  nlohmann::json j{
      {"messageId", m.id},
      {"customerId", m.customer_id},
      {"channel", domain::ChannelName(m.channel)},
      {"purpose", domain::PurposeName(m.purpose)},
      {"templateId", m.template_id},
      {"state", domain::StateName(m.state)},
      {"attempts", m.attempts},
      {"decisionIds", m.decision_ids},
      {"time", absl::FormatTime(absl::RFC3339_full, m.update_time, absl::UTCTimeZone())}};
  if (!m.endpoint_id.empty()) j["endpointId"] = m.endpoint_id;
  if (!m.ticket_id.empty()) {
    j["ticketId"] = m.ticket_id;
    j["ticketMailId"] = m.ticket_mail_id;
  }
  if (!m.offer_ids.empty()) j["offerIds"] = m.offer_ids;
  if (!m.campaign_id.empty()) {
    j["campaignId"] = m.campaign_id;
    j["variantId"] = m.variant_id;
  }
  if (m.suppression != domain::Suppression::kNone) {
    j["suppressionReason"] = domain::SuppressionName(m.suppression);
  }
  if (!m.last_error.empty()) j["error"] = m.last_error;
  if (m.open_count > 0 || m.click_count > 0) {
    j["opens"] = m.open_count;
    j["clicks"] = m.click_count;
  }
  if (m.receipt != domain::Receipt::kNone) {
    j["receipt"] = domain::ReceiptName(m.receipt);
    if (!m.receipt_detail.empty()) j["receiptDetail"] = m.receipt_detail;
  }
  return j.dump();
}

std::string SealAad(const std::string& tenant, const std::string& endpoint_id) {
  return absl::StrCat(tenant, "/", endpoint_id);
}

absl::StatusOr<app::WebhookEndpoint> EndpointOf(const pqxx::row& r, const std::string& key,
                                                const std::string& tenant) {
  app::WebhookEndpoint e;
  e.id = r[0].as<std::string>();
  e.url = r[1].as<std::string>();
  e.description = r[2].as<std::string>();
  const pqxx::binarystring sealed(r[3]);
  std::optional<std::string> secret =
      common::Aes256GcmOpen(key, sealed.str(), SealAad(tenant, e.id));
  if (!secret)
    return absl::DataLossError("webhook endpoint secret unreadable (context key changed?)");
  e.secret = *std::move(secret);
  e.timeout = absl::Milliseconds(r[4].as<int>());
  e.max_concurrency = r[5].as<int>();
  e.create_time = absl::FromUnixMicros(r[6].as<int64_t>());
  return e;
}

std::string ProviderAad(const std::string& tenant, domain::Channel channel) {
  return absl::StrCat(tenant, "/provider/", domain::ChannelName(channel));
}

absl::StatusOr<domain::ProviderSettings> ProviderOf(const pqxx::row& r, const std::string& key,
                                                    const std::string& tenant) {
  domain::ProviderSettings p;
  std::optional<domain::Channel> channel = domain::ChannelFromName(r[0].as<std::string>());
  std::optional<domain::ProviderKind> kind = domain::ProviderKindFromName(r[1].as<std::string>());
  if (!channel || !kind) return absl::DataLossError("channel provider row unreadable");
  p.channel = *channel;
  p.kind = *kind;
  p.base_url = r[2].as<std::string>();
  p.account = r[3].as<std::string>();
  p.sender = r[4].as<std::string>();
  const pqxx::binarystring sealed(r[5]);
  std::optional<std::string> secret =
      common::Aes256GcmOpen(key, sealed.str(), ProviderAad(tenant, p.channel));
  if (!secret) return absl::DataLossError("provider secret unreadable (context key changed?)");
  p.secret = *std::move(secret);
  p.version = r[6].as<int64_t>();
  p.update_time = absl::FromUnixMicros(r[7].as<int64_t>());
  return p;
}

}  // namespace

class PgDeliveryRepository::Tx final : public app::DeliveryTx {
 public:
  Tx(pg::Pool& pool, const outbox::WriteTx& w, const std::string& key)
      : pool_(pool), w_(w), key_(key) {}
  void InsertMessage(const domain::Message& m) override {
    std::optional<std::string> endpoint;
    if (!m.endpoint_id.empty()) endpoint = m.endpoint_id;
    pool_.Exec(w_.sql(), kInsertMessage, w_.tenant(), m.id, m.customer_id,
               std::string(domain::ChannelName(m.channel)),
               std::string(domain::PurposeName(m.purpose)), m.template_id, m.locale, endpoint,
               m.offer_count, std::string(domain::StateName(m.state)), m.max_attempts, m.request_id,
               absl::ToUnixMicros(m.create_time),
               absl::ToUnixMicros(m.next_attempt_time.value_or(m.create_time)), m.ticket_id,
               m.ticket_mail_id);
  }
  absl::StatusOr<domain::Message> LoadMessageForUpdate(const std::string& id) override {
    pqxx::result r = pool_.Exec(w_.sql(), kMessageForUpdate, w_.tenant(), id);
    if (r.empty()) return domain::MessageNotFound(id);
    return MessageOf(r[0]);
  }
  void SaveMessage(const domain::Message& m) override {
    SaveChanging(pool_, w_.sql(), kSaveMessage, w_.tenant(), m);
  }
  void SaveEngagement(const domain::Message& m) override {
    pool_.Exec(w_.sql(), kSaveEngagement, w_.tenant(), m.id, m.open_count, m.click_count,
               MicrosOf(m.first_open_time), MicrosOf(m.first_click_time),
               MicrosOf(m.unsubscribe_time), MicrosOf(m.last_open_time),
               MicrosOf(m.last_click_time), std::string(domain::ReceiptName(m.receipt)),
               MicrosOf(m.receipt_time), m.receipt_detail);
  }
  absl::StatusOr<std::vector<domain::Touch>> LoadTouches(const std::string& customer_id,
                                                         absl::Time since) override {
    std::vector<domain::Touch> out;
    for (const auto& r :
         pool_.Exec(w_.sql(), kLoadTouches, w_.tenant(), customer_id, absl::ToUnixMicros(since))) {
      domain::Touch t;
      t.message_id = r[0].as<std::string>();
      t.first_click_time = OptionalTime(r[1]);
      t.last_click_time = OptionalTime(r[2]);
      t.first_open_time = OptionalTime(r[3]);
      t.last_open_time = OptionalTime(r[4]);
      out.push_back(std::move(t));
    }
    return out;
  }
  absl::StatusOr<std::vector<std::string>> LoadExposures(const std::string& customer_id,
                                                         absl::Time from, absl::Time to) override {
    std::vector<std::string> out;
    for (const auto& r : pool_.Exec(w_.sql(), kLoadExposures, w_.tenant(), customer_id,
                                    absl::ToUnixMicros(from), absl::ToUnixMicros(to))) {
      out.push_back(r[0].as<std::string>());
    }
    return out;
  }
  absl::StatusOr<std::optional<std::string>> CreditedMessageOf(
      const std::string& order_id) override {
    pqxx::result r = pool_.Exec(w_.sql(), kCreditedMessage, w_.tenant(), order_id);
    if (r.empty()) return std::optional<std::string>();
    return std::optional<std::string>(r[0][0].as<std::string>());
  }
  absl::StatusOr<bool> SaveConversion(const app::OrderConversion& order,
                                      const std::string& message_id,
                                      app::ConversionKind kind) override {
    pqxx::result r =
        pool_.Exec(w_.sql(), kSaveConversion, w_.tenant(), order.order_id, message_id,
                   std::string(kind == app::ConversionKind::kCredited ? "credited" : "exposed"),
                   order.currency_code, order.revenue_minor, order.version,
                   absl::ToUnixMicros(order.order_time));
    return !r.empty() && r[0][0].as<bool>();
  }
  absl::StatusOr<int64_t> DeleteConversions(const std::string& order_id) override {
    return static_cast<int64_t>(
        pool_.Exec(w_.sql(), kDeleteConversions, w_.tenant(), order_id).affected_rows());
  }
  void EmitConversion(const domain::Message& m, const app::OrderConversion& order) override {
    nlohmann::json j = nlohmann::json::parse(EventPayload(m));
    j["orderId"] = order.order_id;
    j["currencyCode"] = order.currency_code;
    j["revenueMinor"] = absl::StrCat(order.revenue_minor);
    j["orderTime"] = absl::FormatTime(absl::RFC3339_full, order.order_time, absl::UTCTimeZone());
    w_.Emit(m.customer_id, "message.converted", j.dump());
  }
  void EmitMessage(const std::string& type, const domain::Message& m) override {
    w_.Emit(m.customer_id, type, EventPayload(m));
  }
  absl::StatusOr<int64_t> CountEndpoints() override {
    return pool_.Exec(w_.sql(), kCountEndpoints, w_.tenant())[0][0].as<int64_t>();
  }
  void InsertEndpoint(const app::WebhookEndpoint& e) override {
    const pqxx::binarystring sealed(
        common::Aes256GcmSeal(key_, e.secret, SealAad(w_.tenant(), e.id)));
    pool_.Exec(w_.sql(), kInsertEndpoint, w_.tenant(), e.id, e.url, e.description, sealed,
               static_cast<int>(absl::ToInt64Milliseconds(e.timeout)), e.max_concurrency,
               absl::ToUnixMicros(e.create_time));
  }
  absl::StatusOr<domain::Campaign> LoadCampaignForUpdate(const std::string& id) override {
    pqxx::result r = pool_.Exec(w_.sql(), kCampaignForUpdate, w_.tenant(), id);
    if (r.empty()) {
      return domain::CampaignNotFound(id);
    }
    return CampaignOf(r[0]);
  }
  void SaveCampaign(const domain::Campaign& c) override {
    pool_.Exec(w_.sql(), kSaveCampaign, w_.tenant(), c.id, CampaignJson(c).dump(),
               std::string(domain::CampaignStateName(c.state)), c.version, MicrosOf(c.start_time),
               MicrosOf(c.started_time), MicrosOf(c.completed_time), c.cursor, c.expanded,
               c.targeted, MicrosOf(c.pace_start), c.paced, absl::ToUnixMicros(c.create_time),
               absl::ToUnixMicros(c.update_time), c.occurrence);
  }
  void EmitCampaign(const std::string& type, const domain::Campaign& c) override {
    w_.Emit("", type,
            nlohmann::json{
                {"campaignId", c.id},
                {"name", c.name},
                {"state", domain::CampaignStateName(c.state)},
                {"version", c.version},
                {"targeted", c.targeted},
                {"time", absl::FormatTime(absl::RFC3339_full, c.update_time, absl::UTCTimeZone())}}
                .dump());
  }
  absl::StatusOr<std::vector<std::string>> InsertCampaignMessages(
      const std::vector<domain::Message>& rows) override {
    std::vector<std::string> out;
    if (rows.empty()) return out;
    std::vector<std::string> ids, customers, templates, states, reasons, keys, nexts, variants;
    for (const domain::Message& m : rows) {
      ids.push_back(m.id);
      customers.push_back(m.customer_id);
      templates.push_back(m.template_id);
      states.emplace_back(domain::StateName(m.state));
      reasons.emplace_back(domain::SuppressionName(m.suppression));
      keys.push_back(m.request_id);
      nexts.push_back(absl::StrCat(m.next_attempt_time ? absl::ToUnixMicros(*m.next_attempt_time)
                                                       : int64_t{0}));
      variants.push_back(m.variant_id);
    }
    const domain::Message& first = rows.front();
    std::optional<std::string> endpoint, campaign;  // NULL: a webhook's, a journey's row
    if (!first.endpoint_id.empty()) endpoint = first.endpoint_id;
    if (!first.campaign_id.empty()) campaign = first.campaign_id;
    for (const auto& r : pool_.Exec(w_.sql(), kInsertCampaignMessages, w_.tenant(),
                                    std::string(domain::ChannelName(first.channel)),
                                    std::string(domain::PurposeName(first.purpose)), endpoint,
                                    first.offer_count, first.max_attempts, campaign,
                                    pg::TextArrayLiteral(ids), pg::TextArrayLiteral(customers),
                                    pg::TextArrayLiteral(templates), pg::TextArrayLiteral(states),
                                    pg::TextArrayLiteral(reasons), pg::TextArrayLiteral(keys),
                                    pg::TextArrayLiteral(nexts), pg::TextArrayLiteral(variants))) {
      out.push_back(r[0].as<std::string>());
    }
    return out;
  }
  absl::StatusOr<int64_t> CancelCampaignMessages(const std::string& campaign_id) override {
    return static_cast<int64_t>(
        pool_.Exec(w_.sql(), kCancelCampaignMessages, w_.tenant(), campaign_id).affected_rows());
  }
  absl::StatusOr<bool> PostponePending(const std::string& campaign_id,
                                       const std::string& customer_id, absl::Time due) override {
    return !pool_
                .Exec(w_.sql(), kPostponePending, w_.tenant(), campaign_id, customer_id,
                      absl::ToUnixMicros(due))
                .empty();
  }
  absl::StatusOr<std::vector<domain::Message>> SuppressPending(const std::string& campaign_id,
                                                               const std::string& customer_id,
                                                               absl::Time due_by,
                                                               domain::Suppression why,
                                                               const std::string& detail) override {
    std::vector<domain::Message> out;
    for (const auto& r : pool_.Exec(w_.sql(), kSuppressPending, w_.tenant(), campaign_id,
                                    customer_id, absl::ToUnixMicros(due_by),
                                    std::string(domain::SuppressionName(why)), detail)) {
      CRM_ASSIGN_OR_RETURN(domain::Message m, MessageOf(r));
      out.push_back(std::move(m));
    }
    return out;
  }
  absl::StatusOr<int64_t> RespaceCampaignMessages(const std::string& campaign_id, absl::Time start,
                                                  int throttle) override {
    return static_cast<int64_t>(pool_
                                    .Exec(w_.sql(), kRespaceCampaignMessages, w_.tenant(),
                                          campaign_id, absl::ToUnixMicros(start), throttle)
                                    .affected_rows());
  }
  absl::StatusOr<int64_t> CountOpenCampaignMessages(const std::string& campaign_id) override {
    return pool_.Exec(w_.sql(), kCountOpenCampaignMessages, w_.tenant(), campaign_id)[0][0]
        .as<int64_t>();
  }
  absl::StatusOr<std::optional<domain::DeliveryPolicy>> LoadPolicyForUpdate() override {
    pqxx::result r = pool_.Exec(w_.sql(), kPolicyForUpdate, w_.tenant());
    if (r.empty()) return std::optional<domain::DeliveryPolicy>();
    CRM_ASSIGN_OR_RETURN(domain::DeliveryPolicy p, PolicyOf(r[0]));
    return std::optional<domain::DeliveryPolicy>(std::move(p));
  }
  void SavePolicy(const domain::DeliveryPolicy& p) override {
    pool_.Exec(w_.sql(), kSavePolicy, w_.tenant(), PolicyJson(p).dump(), p.version,
               absl::ToUnixMicros(p.update_time.value_or(absl::Now())));
  }
  void SaveSuppression(const app::SuppressedAddress& s) override {
    pool_.Exec(w_.sql(), kSaveSuppression, w_.tenant(), std::string(domain::ChannelName(s.channel)),
               s.address, s.reason, s.detail, s.message_id, absl::ToUnixMicros(s.create_time));
  }
  absl::StatusOr<bool> DeleteSuppression(domain::Channel channel,
                                         const std::string& address) override {
    return !pool_
                .Exec(w_.sql(), kDeleteSuppression, w_.tenant(),
                      std::string(domain::ChannelName(channel)), address)
                .empty();
  }
  absl::StatusOr<bool> DeleteEndpoint(const std::string& id) override {
    return !pool_.Exec(w_.sql(), kDeleteEndpoint, w_.tenant(), id).empty();
  }
  absl::StatusOr<std::optional<domain::ProviderSettings>> LoadProviderForUpdate(
      domain::Channel channel) override {
    pqxx::result r = pool_.Exec(w_.sql(), kProviderForUpdate, w_.tenant(),
                                std::string(domain::ChannelName(channel)));
    if (r.empty()) return std::optional<domain::ProviderSettings>();
    CRM_ASSIGN_OR_RETURN(domain::ProviderSettings p, ProviderOf(r[0], key_, w_.tenant()));
    return std::optional<domain::ProviderSettings>(std::move(p));
  }
  void SaveProvider(const domain::ProviderSettings& p) override {
    const pqxx::binarystring sealed(
        common::Aes256GcmSeal(key_, p.secret, ProviderAad(w_.tenant(), p.channel)));
    pool_.Exec(w_.sql(), kSaveProvider, w_.tenant(), std::string(domain::ChannelName(p.channel)),
               std::string(domain::ProviderKindName(p.kind)), p.base_url, p.account, p.sender,
               sealed, p.version, absl::ToUnixMicros(p.update_time));
  }
  absl::StatusOr<bool> DeleteProvider(domain::Channel channel) override {
    return !pool_
                .Exec(w_.sql(), kDeleteProvider, w_.tenant(),
                      std::string(domain::ChannelName(channel)))
                .empty();
  }
  void SaveSenderSettings(const app::SenderSettings& s) override {
    pool_.Exec(w_.sql(), kSaveSender, w_.tenant(), s.from_address, s.from_name, s.reply_to_address,
               absl::ToUnixMicros(s.update_time.value_or(absl::Now())));
  }

 private:
  pg::Pool& pool_;
  const outbox::WriteTx& w_;
  const std::string& key_;
};

PgDeliveryRepository::PgDeliveryRepository(pg::Pool& pool, const std::string& context_key)
    : pool_(pool),
      writer_(pool, kSchema),
      secret_key_(common::HkdfSha256(context_key, "", "crm webhook secret v1", 32)) {}

std::vector<pg::NamedQuery> PgDeliveryRepository::Queries() {
  std::vector<pg::NamedQuery> q = {kInsertMessage,
                                   kSelectMessage,
                                   kMessageForUpdate,
                                   kSaveMessage,
                                   kFinishMessage,
                                   kClaimMessage,
                                   kCustomerMessagesFirst,
                                   kCustomerMessagesNext,
                                   kStateMessagesFirst,
                                   kStateMessagesNext,
                                   kSchedulerOn,
                                   kSelectDue,
                                   kMarkEnqueued,
                                   kSelectLostClaims,
                                   kClaimStillLost,
                                   kMarkSendStarted,
                                   kInsertEndpoint,
                                   kSaveSuppression,
                                   kDeleteSuppression,
                                   kListSuppressions,
                                   kSuppressedAmong,
                                   kSelectEndpoint,
                                   kListEndpoints,
                                   kCountEndpoints,
                                   kDeleteEndpoint,
                                   kSelectSender,
                                   kSaveSender,
                                   kSelectProvider,
                                   kProviderForUpdate,
                                   kListProviders,
                                   kSaveProvider,
                                   kDeleteProvider,
                                   kEraseCustomers,
                                   kCapLock,
                                   kCapCount,
                                   kSelectPolicy,
                                   kPolicyForUpdate,
                                   kSavePolicy,
                                   kSelectCampaign,
                                   kCampaignForUpdate,
                                   kListCampaigns,
                                   kTriggeredCampaigns,
                                   kSaveCampaign,
                                   kInsertCampaignMessages,
                                   kCancelCampaignMessages,
                                   kPostponePending,
                                   kSuppressPending,
                                   kRespaceCampaignMessages,
                                   kCountOpenCampaignMessages,
                                   kCountCampaignMessages,
                                   kSaveEngagement,
                                   kLoadTouches,
                                   kLoadExposures,
                                   kCreditedMessage,
                                   kSaveConversion,
                                   kDeleteConversions,
                                   kCountCampaignConversions,
                                   kCountCampaignOffers,
                                   kActiveCampaigns};
  for (pg::NamedQuery& w : outbox::TransactionalWriter::Queries(kSchema)) q.push_back(std::move(w));
  return q;
}

template <typename T>
absl::StatusOr<T> PgDeliveryRepository::WriteOnce(
    const outbox::WriteMeta& meta, const std::string& resource,
    std::function<absl::StatusOr<T>(const outbox::WriteTx& w, const std::string& id)> current,
    absl::FunctionRef<absl::StatusOr<T>(app::DeliveryTx&)> work) {
  const outbox::AnswerCodec<T> codec{
      nullptr, [&current](const outbox::WriteTx& w, const std::string&, const std::string& id) {
        return current(w, id);
      }};
  return outbox::WriteOnce<T>(writer_, meta, resource, codec, [&](const outbox::WriteTx& w) {
    Tx tx(pool_, w, secret_key_);
    return work(tx);
  });
}

absl::StatusOr<domain::Message> PgDeliveryRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::Message>(app::DeliveryTx&)> work) {
  // A retry answers the message as it is now.
  return WriteOnce<domain::Message>(
      meta, resource,
      [this](const outbox::WriteTx& w, const std::string& id) -> absl::StatusOr<domain::Message> {
        pqxx::result r = pool_.Exec(w.sql(), kSelectMessage, w.tenant(), id);
        if (r.empty()) return domain::MessageNotFound(id);
        return MessageOf(r[0]);
      },
      work);
}

absl::StatusOr<app::WebhookEndpoint> PgDeliveryRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<app::WebhookEndpoint>(app::DeliveryTx&)> work) {
  return WriteOnce<app::WebhookEndpoint>(
      meta, resource,
      [this](const outbox::WriteTx& w,
             const std::string& id) -> absl::StatusOr<app::WebhookEndpoint> {
        pqxx::result r = pool_.Exec(w.sql(), kSelectEndpoint, w.tenant(), id);
        if (r.empty()) return domain::EndpointNotFound(id);
        return EndpointOf(r[0], secret_key_, w.tenant());
      },
      work);
}

absl::StatusOr<app::SenderSettings> PgDeliveryRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<app::SenderSettings>(app::DeliveryTx&)> work) {
  return WriteOnce<app::SenderSettings>(
      meta, resource,
      [this](const outbox::WriteTx& w, const std::string&) -> absl::StatusOr<app::SenderSettings> {
        pqxx::result r = pool_.Exec(w.sql(), kSelectSender, w.tenant());
        if (r.empty()) return absl::AbortedError("sender settings changed meanwhile; retry");
        return app::SenderSettings{r[0][0].as<std::string>(), r[0][1].as<std::string>(),
                                   r[0][2].as<std::string>(),
                                   absl::FromUnixMicros(r[0][3].as<int64_t>())};
      },
      work);
}

absl::StatusOr<domain::DeliveryPolicy> PgDeliveryRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::DeliveryPolicy>(app::DeliveryTx&)> work) {
  return WriteOnce<domain::DeliveryPolicy>(
      meta, resource,
      [this](const outbox::WriteTx& w,
             const std::string&) -> absl::StatusOr<domain::DeliveryPolicy> {
        pqxx::result r = pool_.Exec(w.sql(), kSelectPolicy, w.tenant());
        if (r.empty()) return absl::AbortedError("delivery policy changed meanwhile; retry");
        return PolicyOf(r[0]);
      },
      work);
}

absl::StatusOr<domain::Campaign> PgDeliveryRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::Campaign>(app::DeliveryTx&)> work) {
  return WriteOnce<domain::Campaign>(
      meta, resource,
      [this](const outbox::WriteTx& w, const std::string& id) -> absl::StatusOr<domain::Campaign> {
        pqxx::result r = pool_.Exec(w.sql(), kSelectCampaign, w.tenant(), id);
        if (r.empty()) return domain::CampaignNotFound(id);
        return CampaignOf(r[0]);
      },
      work);
}

absl::StatusOr<domain::ProviderSettings> PgDeliveryRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<domain::ProviderSettings>(app::DeliveryTx&)> work) {
  // The resource is "provider/<channel>": a retry answers that provider now
  // (its secret cleared by the use case).
  return WriteOnce<domain::ProviderSettings>(
      meta, resource,
      [this](const outbox::WriteTx& w,
             const std::string& id) -> absl::StatusOr<domain::ProviderSettings> {
        const std::string channel(absl::StripPrefix(id, "provider/"));
        pqxx::result r = pool_.Exec(w.sql(), kSelectProvider, w.tenant(), channel);
        if (r.empty()) return domain::ProviderNotFound(channel);
        return ProviderOf(r[0], secret_key_, w.tenant());
      },
      work);
}

absl::StatusOr<domain::Campaign> PgDeliveryRepository::GetCampaign(const std::string& tenant,
                                                                   const std::string& id) {
  std::optional<absl::StatusOr<domain::Campaign>> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = pool_.Exec(tx, kSelectCampaign, tenant, id);
    out = r.empty() ? absl::StatusOr<domain::Campaign>(domain::CampaignNotFound(id))
                    : CampaignOf(r[0]);
    return absl::OkStatus();
  }));
  return *std::move(out);
}

absl::StatusOr<std::vector<domain::Campaign>> PgDeliveryRepository::ListCampaigns(
    const std::string& tenant) {
  std::vector<domain::Campaign> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.clear();
    for (const auto& r : pool_.Exec(tx, kListCampaigns, tenant)) {
      CRM_ASSIGN_OR_RETURN(domain::Campaign c, CampaignOf(r));
      out.push_back(std::move(c));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<domain::Campaign>> PgDeliveryRepository::TriggeredCampaigns(
    const std::string& tenant, domain::TriggerKind kind) {
  std::vector<domain::Campaign> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.clear();
    for (const auto& r :
         pool_.Exec(tx, kTriggeredCampaigns, tenant, std::string(domain::TriggerKindName(kind)))) {
      CRM_ASSIGN_OR_RETURN(domain::Campaign c, CampaignOf(r));
      out.push_back(std::move(c));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<app::CampaignCount>> PgDeliveryRepository::CountCampaignMessages(
    const std::string& tenant, const std::string& campaign_id) {
  std::vector<app::CampaignCount> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.clear();
    for (const auto& r : pool_.Exec(tx, kCountCampaignMessages, tenant, campaign_id)) {
      std::optional<domain::State> st = domain::StateFromName(r[1].as<std::string>());
      std::optional<domain::Suppression> why = domain::SuppressionFromName(r[2].as<std::string>());
      if (!st || !why) return absl::DataLossError("stored message unreadable");
      out.push_back({r[0].as<std::string>(), *st, *why, r[3].as<int64_t>(), r[4].as<int64_t>(),
                     r[5].as<int64_t>(), r[6].as<int64_t>(), r[7].as<int64_t>(),
                     r[8].as<int64_t>()});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<app::ConversionCount>> PgDeliveryRepository::CountCampaignConversions(
    const std::string& tenant, const std::string& campaign_id) {
  std::vector<app::ConversionCount> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.clear();
    for (const auto& r : pool_.Exec(tx, kCountCampaignConversions, tenant, campaign_id)) {
      app::ConversionCount c;
      c.variant_id = r[0].as<std::string>();
      c.kind = r[1].as<std::string>() == "credited" ? app::ConversionKind::kCredited
                                                    : app::ConversionKind::kExposed;
      c.currency_code = r[2].is_null() ? "" : r[2].as<std::string>();
      c.messages = r[3].as<int64_t>();
      c.revenue_minor = r[4].as<int64_t>();
      out.push_back(std::move(c));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<app::OfferCount>> PgDeliveryRepository::CountCampaignOffers(
    const std::string& tenant, const std::string& campaign_id) {
  std::vector<app::OfferCount> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.clear();
    for (const auto& r : pool_.Exec(tx, kCountCampaignOffers, tenant, campaign_id)) {
      out.push_back(
          {r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<int64_t>(), r[3].as<int64_t>()});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<app::DeliveryRepository::CampaignRef>>
PgDeliveryRepository::ActiveCampaigns(int limit) {
  std::vector<CampaignRef> out;
  CRM_RETURN_IF_ERROR(pool_.WithTx([&](pqxx::work& tx) -> absl::Status {
    out.clear();
    pool_.Exec(tx, kSchedulerOn);
    for (const auto& r : pool_.Exec(tx, kActiveCampaigns, limit)) {
      out.push_back({r[0].as<std::string>(), r[1].as<std::string>()});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::optional<domain::DeliveryPolicy>> PgDeliveryRepository::GetPolicy(
    const std::string& tenant) {
  std::optional<domain::DeliveryPolicy> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.reset();
    pqxx::result r = pool_.Exec(tx, kSelectPolicy, tenant);
    if (r.empty()) return absl::OkStatus();
    CRM_ASSIGN_OR_RETURN(domain::DeliveryPolicy p, PolicyOf(r[0]));
    out = std::move(p);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<bool> PgDeliveryRepository::Write(
    const outbox::WriteMeta& meta, const std::string& resource,
    absl::FunctionRef<absl::StatusOr<bool>(app::DeliveryTx&)> work) {
  const outbox::AnswerCodec<bool> codec =
      outbox::SnapshotCodec<bool>([](const bool&) { return std::string("1"); },
                                  [](const std::string&) -> absl::StatusOr<bool> { return true; });
  return outbox::WriteOnce<bool>(writer_, meta, resource, codec, [&](const outbox::WriteTx& w) {
    Tx tx(pool_, w, secret_key_);
    return work(tx);
  });
}

absl::StatusOr<domain::Message> PgDeliveryRepository::GetMessage(const std::string& tenant,
                                                                 const std::string& id) {
  std::optional<absl::StatusOr<domain::Message>> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = pool_.Exec(tx, kSelectMessage, tenant, id);
    out =
        r.empty() ? absl::StatusOr<domain::Message>(domain::MessageNotFound(id)) : MessageOf(r[0]);
    return absl::OkStatus();
  }));
  return *std::move(out);
}

absl::StatusOr<app::MessagePage> PgDeliveryRepository::List(const std::string& tenant,
                                                            const app::Page& page,
                                                            const pg::NamedQuery& first,
                                                            const pg::NamedQuery& next,
                                                            const std::string& key) {
  int64_t after_micros = 0;
  std::string after_id;
  if (!page.after.empty()) {
    std::vector<std::string> parts = absl::StrSplit(page.after, '/');
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &after_micros) ||
        !common::IsUuid(parts[1])) {
      return common::WithReason(absl::InvalidArgumentError("page_token is not valid"),
                                "INVALID_PAGE_TOKEN");
    }
    after_id = parts[1];
  }
  app::MessagePage out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out = {};
    pqxx::result r = page.after.empty()
                         ? pool_.Exec(tx, first, tenant, key, page.size + 1)
                         : pool_.Exec(tx, next, tenant, key, page.size + 1, after_micros, after_id);
    for (const auto& row : r) {
      if (static_cast<int>(out.messages.size()) == page.size) {
        const domain::Message& last = out.messages.back();
        out.next_after = absl::StrCat(absl::ToUnixMicros(last.create_time), "/", last.id);
        break;
      }
      CRM_ASSIGN_OR_RETURN(domain::Message m, MessageOf(row));
      out.messages.push_back(std::move(m));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<app::MessagePage> PgDeliveryRepository::ListCustomerMessages(
    const std::string& tenant, const std::string& customer_id, const app::Page& page) {
  return List(tenant, page, kCustomerMessagesFirst, kCustomerMessagesNext, customer_id);
}

absl::StatusOr<app::MessagePage> PgDeliveryRepository::ListMessages(const std::string& tenant,
                                                                    domain::State state,
                                                                    const app::Page& page) {
  return List(tenant, page, kStateMessagesFirst, kStateMessagesNext,
              std::string(domain::StateName(state)));
}

absl::StatusOr<app::SuppressionPage> PgDeliveryRepository::ListSuppressions(
    const std::string& tenant, domain::Channel channel, const app::Page& page) {
  int64_t after_micros = 0;
  std::string after_address;
  if (!page.after.empty()) {
    const size_t slash = page.after.find('/');
    if (slash == std::string::npos ||
        !absl::SimpleAtoi(page.after.substr(0, slash), &after_micros) ||
        slash + 1 == page.after.size()) {
      return common::WithReason(absl::InvalidArgumentError("page_token is not valid"),
                                "INVALID_PAGE_TOKEN");
    }
    after_address = page.after.substr(slash + 1);
  }
  app::SuppressionPage out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out = {};
    for (const auto& r :
         pool_.Exec(tx, kListSuppressions, tenant, std::string(domain::ChannelName(channel)),
                    page.size + 1, after_address, after_micros)) {
      if (static_cast<int>(out.items.size()) == page.size) {
        const app::SuppressedAddress& last = out.items.back();
        out.next_after = absl::StrCat(absl::ToUnixMicros(last.create_time), "/", last.address);
        break;
      }
      app::SuppressedAddress s;
      s.channel = channel;
      s.address = r[0].as<std::string>();
      s.reason = r[1].as<std::string>();
      s.detail = r[2].as<std::string>();
      s.message_id = r[3].as<std::string>();
      s.create_time = absl::FromUnixMicros(r[4].as<int64_t>());
      out.items.push_back(std::move(s));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<std::string>> PgDeliveryRepository::SuppressedAmong(
    const std::string& tenant, domain::Channel channel, const std::vector<std::string>& addresses) {
  std::vector<std::string> out;
  if (addresses.empty()) return out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.clear();
    for (const auto& r :
         pool_.Exec(tx, kSuppressedAmong, tenant, std::string(domain::ChannelName(channel)),
                    pg::TextArrayLiteral(addresses))) {
      out.push_back(r[0].as<std::string>());
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<app::WebhookEndpoint> PgDeliveryRepository::GetEndpoint(const std::string& tenant,
                                                                       const std::string& id) {
  std::optional<absl::StatusOr<app::WebhookEndpoint>> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = pool_.Exec(tx, kSelectEndpoint, tenant, id);
    out = r.empty() ? absl::StatusOr<app::WebhookEndpoint>(domain::EndpointNotFound(id))
                    : EndpointOf(r[0], secret_key_, tenant);
    return absl::OkStatus();
  }));
  return *std::move(out);
}

absl::StatusOr<std::vector<app::WebhookEndpoint>> PgDeliveryRepository::ListEndpoints(
    const std::string& tenant) {
  std::vector<app::WebhookEndpoint> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.clear();
    for (const auto& r : pool_.Exec(tx, kListEndpoints, tenant)) {
      CRM_ASSIGN_OR_RETURN(app::WebhookEndpoint e, EndpointOf(r, secret_key_, tenant));
      out.push_back(std::move(e));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::optional<app::SenderSettings>> PgDeliveryRepository::GetSenderSettings(
    const std::string& tenant) {
  std::optional<app::SenderSettings> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.reset();
    pqxx::result r = pool_.Exec(tx, kSelectSender, tenant);
    if (!r.empty()) {
      out = app::SenderSettings{r[0][0].as<std::string>(), r[0][1].as<std::string>(),
                                r[0][2].as<std::string>(),
                                absl::FromUnixMicros(r[0][3].as<int64_t>())};
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::optional<domain::ProviderSettings>> PgDeliveryRepository::GetProvider(
    const std::string& tenant, domain::Channel channel) {
  std::optional<domain::ProviderSettings> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.reset();
    pqxx::result r =
        pool_.Exec(tx, kSelectProvider, tenant, std::string(domain::ChannelName(channel)));
    if (r.empty()) return absl::OkStatus();
    CRM_ASSIGN_OR_RETURN(domain::ProviderSettings p, ProviderOf(r[0], secret_key_, tenant));
    out = std::move(p);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<domain::ProviderSettings>> PgDeliveryRepository::ListProviders(
    const std::string& tenant) {
  std::vector<domain::ProviderSettings> out;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.clear();
    for (const auto& r : pool_.Exec(tx, kListProviders, tenant)) {
      CRM_ASSIGN_OR_RETURN(domain::ProviderSettings p, ProviderOf(r, secret_key_, tenant));
      out.push_back(std::move(p));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<int64_t> PgDeliveryRepository::EraseCustomers(
    const std::string& tenant, const std::string& event_id,
    const std::vector<std::string>& customer_ids) {
  int64_t erased = 0;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    erased = 0;
    CRM_ASSIGN_OR_RETURN(bool first, events::MarkProcessed(tx, kSchema, "delivery", event_id));
    if (!first) return absl::OkStatus();
    erased = static_cast<int64_t>(
        pool_.Exec(tx, kEraseCustomers, tenant, pg::TextArrayLiteral(customer_ids))
            .affected_rows());
    return absl::OkStatus();
  }));
  return erased;
}

absl::StatusOr<std::vector<app::Ledger::ClaimResult>> PgDeliveryRepository::ClaimBatch(
    const std::string& tenant, const std::vector<std::string>& ids, absl::Duration lease,
    const std::vector<domain::FrequencyCap>& caps) {
  std::vector<ClaimResult> out;
  const outbox::WriteMeta meta{tenant, "delivery", "", "Send", "", ""};
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out.assign(ids.size(), ClaimResult{});
    // One statement claims the batch; its rows by id.
    std::map<std::string, domain::Message> claimed;
    for (const auto& row : pool_.Exec(tx, kClaimMessage, tenant, pg::TextArrayLiteral(ids),
                                      absl::ToInt64Microseconds(lease))) {
      CRM_ASSIGN_OR_RETURN(domain::Message m, MessageOf(row));
      claimed.emplace(m.id, std::move(m));
    }
    // The caps of marketing rows, one customer and channel at a time in
    // the order of their locks (two batches never wait on each other in a
    // circle).
    std::vector<domain::Message*> capped_kind;
    for (auto& [id, m] : claimed) {
      if (m.purpose == domain::Purpose::kMarketing && !domain::CapsFor(caps, m.channel).empty()) {
        capped_kind.push_back(&m);
      }
    }
    std::sort(capped_kind.begin(), capped_kind.end(),
              [](const domain::Message* a, const domain::Message* b) {
                return std::tie(a->customer_id, a->channel, a->id) <
                       std::tie(b->customer_id, b->channel, b->id);
              });
    std::set<std::string> capped_ids;
    for (domain::Message* m : capped_kind) {
      const std::string channel(domain::ChannelName(m->channel));
      pool_.Exec(tx, kCapLock, tenant, m->customer_id, channel);
      for (const domain::FrequencyCap& cap : domain::CapsFor(caps, m->channel)) {
        const int64_t count = pool_
                                  .Exec(tx, kCapCount, tenant, m->customer_id, channel,
                                        absl::ToInt64Microseconds(cap.window), m->id)[0][0]
                                  .as<int64_t>();
        if (count < cap.max_messages) continue;
        // Not an attempt: the claim's count is taken back.
        m->attempts -= 1;
        m->state = domain::State::kSuppressed;
        m->suppression = domain::Suppression::kFrequencyCap;
        m->last_error =
            absl::StrCat("frequency cap: ", cap.max_messages, " marketing ", channel,
                         " messages per ", absl::FormatDuration(cap.window), " reached");
        m->next_attempt_time.reset();
        m->update_time = absl::Now();
        SaveChanging(pool_, tx, kSaveMessage, tenant, *m);
        writer_.Emit(tx, meta, m->customer_id, "message.suppressed", EventPayload(*m));
        capped_ids.insert(m->id);
        break;
      }
    }
    for (size_t i = 0; i < ids.size(); ++i) {
      auto it = claimed.find(ids[i]);
      if (it == claimed.end()) continue;  // not claimable, or given twice
      if (capped_ids.count(it->first) > 0) {
        out[i].capped = std::move(it->second);
      } else {
        out[i].claimed = std::move(it->second);
      }
      claimed.erase(it);
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<bool> PgDeliveryRepository::MarkSendStarted(const std::string& tenant,
                                                           const std::string& id,
                                                           int claimed_attempts) {
  bool ours = false;
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    ours = !pool_.Exec(tx, kMarkSendStarted, tenant, id, claimed_attempts).empty();
    return absl::OkStatus();
  }));
  return ours;
}

absl::StatusOr<std::vector<bool>> PgDeliveryRepository::FinishBatch(
    const std::string& tenant, const std::vector<Finished>& rows) {
  std::vector<bool> finished;
  const outbox::WriteMeta meta{tenant, "delivery", "", "Send", "", ""};
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    finished.assign(rows.size(), false);
    for (size_t i = 0; i < rows.size(); ++i) {
      const domain::Message& m = rows[i].message;
      finished[i] =
          !SaveChanging(pool_, tx, kFinishMessage, tenant, m, rows[i].claimed_attempts).empty();
      if (finished[i] && !rows[i].event_type.empty()) {
        writer_.Emit(tx, meta, m.customer_id, rows[i].event_type, EventPayload(m));
      }
    }
    return absl::OkStatus();
  }));
  return finished;
}

absl::StatusOr<app::Ledger::FinishMark> PgDeliveryRepository::FinishAndMark(
    const std::string& tenant, const Finished& row, const std::string& next_id, int next_attempts) {
  FinishMark out;
  const outbox::WriteMeta meta{tenant, "delivery", "", "Send", "", ""};
  CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
    out = FinishMark();
    const domain::Message& m = row.message;
    out.finished =
        !SaveChanging(pool_, tx, kFinishMessage, tenant, m, row.claimed_attempts).empty();
    if (out.finished && !row.event_type.empty()) {
      writer_.Emit(tx, meta, m.customer_id, row.event_type, EventPayload(m));
    }
    if (!next_id.empty()) {
      out.next_marked = !pool_.Exec(tx, kMarkSendStarted, tenant, next_id, next_attempts).empty();
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<app::Ledger::Due>> PgDeliveryRepository::TakeDue(
    absl::Duration requeue_after, int limit) {
  std::vector<Due> due;
  CRM_RETURN_IF_ERROR(pool_.WithTx([&](pqxx::work& tx) -> absl::Status {
    due.clear();
    pool_.Exec(tx, kSchedulerOn);
    for (const auto& r :
         pool_.Exec(tx, kSelectDue, absl::ToInt64Microseconds(requeue_after), limit)) {
      due.push_back({r[0].as<std::string>(), r[1].as<std::string>()});
    }
    return absl::OkStatus();
  }));
  std::map<std::string, std::vector<std::string>> by_tenant;
  for (const Due& d : due) by_tenant[d.tenant].push_back(d.id);
  for (const auto& [tenant, ids] : by_tenant) {
    CRM_RETURN_IF_ERROR(pool_.WithTenantTx(tenant, [&](pqxx::work& tx) -> absl::Status {
      pool_.Exec(tx, kMarkEnqueued, tenant, pg::TextArrayLiteral(ids));
      return absl::OkStatus();
    }));
  }
  return due;
}

absl::StatusOr<int> PgDeliveryRepository::ResolveLostClaims(int limit) {
  std::vector<Due> lost;
  CRM_RETURN_IF_ERROR(pool_.WithTx([&](pqxx::work& tx) -> absl::Status {
    lost.clear();
    pool_.Exec(tx, kSchedulerOn);
    for (const auto& r : pool_.Exec(tx, kSelectLostClaims, limit)) {
      lost.push_back({r[0].as<std::string>(), r[1].as<std::string>()});
    }
    return absl::OkStatus();
  }));
  int resolved = 0;
  for (const Due& d : lost) {
    const outbox::WriteMeta meta{d.tenant, "delivery", "", "ResolveLostClaim", "", ""};
    CRM_RETURN_IF_ERROR(pool_.WithTenantTx(d.tenant, [&](pqxx::work& tx) -> absl::Status {
      pqxx::result still = pool_.Exec(tx, kClaimStillLost, d.tenant, d.id);
      if (still.empty()) return absl::OkStatus();
      const bool send_started = still[0][0].as<bool>();
      pqxx::result r = pool_.Exec(tx, kMessageForUpdate, d.tenant, d.id);
      if (r.empty()) return absl::OkStatus();
      CRM_ASSIGN_OR_RETURN(domain::Message m, MessageOf(r[0]));
      domain::ApplyLostClaim(m, absl::Now(), send_started);
      SaveChanging(pool_, tx, kSaveMessage, d.tenant, m);
      if (m.state != domain::State::kRetrying) {
        writer_.Emit(tx, meta, m.customer_id, absl::StrCat("message.", domain::StateName(m.state)),
                     EventPayload(m));
      }
      ++resolved;
      return absl::OkStatus();
    }));
  }
  return resolved;
}

}  // namespace crm::delivery::storage
