#pragma once
// In-memory fakes of the delivery engine's ports: the ledger and settings
// (one repository, as PgDeliveryRepository), the queue, the peers and the
// channels. The ledger keeps the PostgreSQL rules: a claim only of a
// queued or retrying row that is due, a finish only of the claimed attempt.
#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/common/clock.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "services/delivery/app/ports.h"
#include "services/delivery/domain/not_found.h"
#include "tests/support/fakes/fake_unit_of_work.h"

namespace crm::testing {

struct FakeDeliveryState {
  struct Event {
    std::string type;
    std::string message_id;
    std::string state;
  };
  std::map<std::string, std::map<std::string, delivery::domain::Message>> messages;
  std::map<std::string, std::map<std::string, delivery::app::WebhookEndpoint>> endpoints;
  std::map<std::string, delivery::app::SenderSettings> senders;
  std::map<std::string, delivery::domain::DeliveryPolicy> policies;
  // tenant/channel name -> the provider
  std::map<std::string, delivery::domain::ProviderSettings> providers;
  std::map<std::string, std::map<std::string, delivery::domain::Campaign>> campaigns;
  // tenant -> "channel/address" -> the entry
  std::map<std::string, std::map<std::string, delivery::app::SuppressedAddress>> suppressions;
  std::map<std::string, std::string> claimed_until;  // tenant/id -> lease end (unix micros)
  std::set<std::string> send_started;                // tenant/id of claims whose send began
  std::vector<Event> events;
  std::set<std::string> processed_events;  // tenant/event id
  struct Conversion {
    std::string order_id;
    std::string message_id;
    delivery::app::ConversionKind kind;
    std::string currency_code;
    int64_t revenue_minor = 0;
    int64_t version = 0;
  };
  std::map<std::string, std::vector<Conversion>> conversions;  // tenant
};

class FakeDeliveryRepository final : public delivery::app::DeliveryRepository,
                                     public delivery::app::Ledger {
 public:
  explicit FakeDeliveryRepository(const common::Clock& clock) : clock_(clock) {}

  class Tx final : public delivery::app::DeliveryTx {
   public:
    Tx(FakeDeliveryState& s, std::string tenant) : s_(s), tenant_(std::move(tenant)) {}
    void InsertMessage(const delivery::domain::Message& m) override {
      s_.messages[tenant_][m.id] = m;
    }
    absl::StatusOr<delivery::domain::Message> LoadMessageForUpdate(const std::string& id) override {
      auto it = s_.messages[tenant_].find(id);
      if (it == s_.messages[tenant_].end()) {
        return delivery::domain::MessageNotFound(id);
      }
      return it->second;
    }
    void SaveMessage(const delivery::domain::Message& m) override {
      s_.messages[tenant_][m.id] = m;
    }
    void SaveEngagement(const delivery::domain::Message& m) override {
      delivery::domain::Message& stored = s_.messages[tenant_][m.id];
      stored.open_count = m.open_count;
      stored.click_count = m.click_count;
      stored.first_open_time = m.first_open_time;
      stored.first_click_time = m.first_click_time;
      stored.unsubscribe_time = m.unsubscribe_time;
      stored.last_open_time = m.last_open_time;
      stored.last_click_time = m.last_click_time;
      stored.receipt = m.receipt;
      stored.receipt_time = m.receipt_time;
      stored.receipt_detail = m.receipt_detail;
    }
    void EmitMessage(const std::string& type, const delivery::domain::Message& m) override {
      s_.events.push_back({type, m.id, std::string(delivery::domain::StateName(m.state))});
    }
    absl::StatusOr<int64_t> CountEndpoints() override {
      return static_cast<int64_t>(s_.endpoints[tenant_].size());
    }
    void InsertEndpoint(const delivery::app::WebhookEndpoint& e) override {
      s_.endpoints[tenant_][e.id] = e;
    }
    absl::StatusOr<bool> DeleteEndpoint(const std::string& id) override {
      return s_.endpoints[tenant_].erase(id) > 0;
    }
    void SaveSuppression(const delivery::app::SuppressedAddress& a) override {
      s_.suppressions[tenant_].emplace(
          absl::StrCat(delivery::domain::ChannelName(a.channel), "/", a.address), a);
    }
    absl::StatusOr<bool> DeleteSuppression(delivery::domain::Channel channel,
                                           const std::string& address) override {
      return s_.suppressions[tenant_].erase(
                 absl::StrCat(delivery::domain::ChannelName(channel), "/", address)) > 0;
    }
    void SaveSenderSettings(const delivery::app::SenderSettings& s) override {
      s_.senders[tenant_] = s;
    }
    absl::StatusOr<std::optional<delivery::domain::ProviderSettings>> LoadProviderForUpdate(
        delivery::domain::Channel channel) override {
      auto it = s_.providers.find(Key(channel));
      if (it == s_.providers.end()) return std::optional<delivery::domain::ProviderSettings>();
      return std::optional<delivery::domain::ProviderSettings>(it->second);
    }
    void SaveProvider(const delivery::domain::ProviderSettings& p) override {
      s_.providers[Key(p.channel)] = p;
    }
    absl::StatusOr<bool> DeleteProvider(delivery::domain::Channel channel) override {
      return s_.providers.erase(Key(channel)) > 0;
    }
    std::string Key(delivery::domain::Channel channel) const {
      return absl::StrCat(tenant_, "/", delivery::domain::ChannelName(channel));
    }
    absl::StatusOr<std::optional<delivery::domain::DeliveryPolicy>> LoadPolicyForUpdate() override {
      auto it = s_.policies.find(tenant_);
      if (it == s_.policies.end()) return std::optional<delivery::domain::DeliveryPolicy>();
      return std::optional<delivery::domain::DeliveryPolicy>(it->second);
    }
    void SavePolicy(const delivery::domain::DeliveryPolicy& p) override {
      s_.policies[tenant_] = p;
    }
    absl::StatusOr<delivery::domain::Campaign> LoadCampaignForUpdate(
        const std::string& id) override {
      auto it = s_.campaigns[tenant_].find(id);
      if (it == s_.campaigns[tenant_].end()) {
        return delivery::domain::CampaignNotFound(id);
      }
      return it->second;
    }
    void SaveCampaign(const delivery::domain::Campaign& c) override {
      s_.campaigns[tenant_][c.id] = c;
    }
    void EmitCampaign(const std::string& type, const delivery::domain::Campaign& c) override {
      s_.events.push_back({type, c.id, std::string(delivery::domain::CampaignStateName(c.state))});
    }
    absl::StatusOr<std::vector<std::string>> InsertCampaignMessages(
        const std::vector<delivery::domain::Message>& rows) override {
      std::vector<std::string> out;
      auto& all = s_.messages[tenant_];
      for (const auto& m : rows) {
        bool exists = false;
        for (const auto& [id, o] : all) exists = exists || o.request_id == m.request_id;
        if (exists) continue;
        all[m.id] = m;
        out.push_back(m.id);
      }
      return out;
    }
    absl::StatusOr<int64_t> CancelCampaignMessages(const std::string& campaign_id) override {
      int64_t n = 0;
      for (auto& [id, m] : s_.messages[tenant_]) {
        if (m.campaign_id == campaign_id && (m.state == delivery::domain::State::kQueued ||
                                             m.state == delivery::domain::State::kRetrying)) {
          m.state = delivery::domain::State::kCancelled;
          m.next_attempt_time.reset();
          ++n;
        }
      }
      return n;
    }
    absl::StatusOr<bool> PostponePending(const std::string& campaign_id,
                                         const std::string& customer_id, absl::Time due) override {
      bool found = false;
      for (auto& [id, m] : s_.messages[tenant_]) {
        if (m.campaign_id == campaign_id && m.customer_id == customer_id &&
            m.state == delivery::domain::State::kQueued) {
          m.next_attempt_time = std::max(m.next_attempt_time.value_or(due), due);
          found = true;
        }
      }
      return found;
    }
    absl::StatusOr<std::vector<delivery::domain::Message>> SuppressPending(
        const std::string& campaign_id, const std::string& customer_id, absl::Time due_by,
        delivery::domain::Suppression why, const std::string& detail) override {
      std::vector<delivery::domain::Message> out;
      for (auto& [id, m] : s_.messages[tenant_]) {
        if (m.campaign_id == campaign_id && m.customer_id == customer_id &&
            (m.state == delivery::domain::State::kQueued ||
             m.state == delivery::domain::State::kRetrying) &&
            m.next_attempt_time && *m.next_attempt_time <= due_by) {
          m.state = delivery::domain::State::kSuppressed;
          m.suppression = why;
          m.last_error = detail;
          m.next_attempt_time.reset();
          out.push_back(m);
        }
      }
      return out;
    }
    absl::StatusOr<int64_t> RespaceCampaignMessages(const std::string& campaign_id,
                                                    absl::Time start, int throttle) override {
      std::vector<delivery::domain::Message*> open;
      for (auto& [id, m] : s_.messages[tenant_]) {
        if (m.campaign_id == campaign_id && (m.state == delivery::domain::State::kQueued ||
                                             m.state == delivery::domain::State::kRetrying)) {
          open.push_back(&m);
        }
      }
      std::sort(open.begin(), open.end(), [](auto* a, auto* b) {
        return std::tie(*a->next_attempt_time, a->id) < std::tie(*b->next_attempt_time, b->id);
      });
      for (size_t i = 0; i < open.size(); ++i) {
        open[i]->next_attempt_time =
            delivery::domain::SendTimeOf(start, static_cast<int64_t>(i), throttle);
      }
      return static_cast<int64_t>(open.size());
    }
    absl::StatusOr<int64_t> CountOpenCampaignMessages(const std::string& campaign_id) override {
      int64_t n = 0;
      for (const auto& [id, m] : s_.messages[tenant_]) {
        if (m.campaign_id == campaign_id && !delivery::domain::IsFinal(m.state)) ++n;
      }
      return n;
    }
    absl::StatusOr<std::vector<delivery::domain::Touch>> LoadTouches(const std::string& customer_id,
                                                                     absl::Time since) override {
      std::vector<delivery::domain::Touch> out;
      for (const auto& [id, m] : s_.messages[tenant_]) {
        if (m.customer_id != customer_id || m.state != delivery::domain::State::kSent) continue;
        const absl::Time latest = std::max(m.last_click_time.value_or(absl::InfinitePast()),
                                           m.last_open_time.value_or(absl::InfinitePast()));
        if (latest < since) continue;
        out.push_back(
            {id, m.first_click_time, m.last_click_time, m.first_open_time, m.last_open_time});
      }
      return out;
    }
    absl::StatusOr<std::vector<std::string>> LoadExposures(const std::string& customer_id,
                                                           absl::Time from,
                                                           absl::Time to) override {
      std::vector<std::string> out;
      for (const auto& [id, m] : s_.messages[tenant_]) {
        if (m.customer_id != customer_id || m.campaign_id.empty() ||
            !delivery::domain::IsFinal(m.state) || m.state == delivery::domain::State::kCancelled) {
          continue;
        }
        const absl::Time at = m.send_time.value_or(m.update_time);
        if (at >= from && at <= to) out.push_back(id);
      }
      return out;
    }
    absl::StatusOr<std::optional<std::string>> CreditedMessageOf(
        const std::string& order_id) override {
      for (const auto& c : s_.conversions[tenant_]) {
        if (c.order_id == order_id && c.kind == delivery::app::ConversionKind::kCredited) {
          return std::optional<std::string>(c.message_id);
        }
      }
      return std::optional<std::string>();
    }
    absl::StatusOr<bool> SaveConversion(const delivery::app::OrderConversion& order,
                                        const std::string& message_id,
                                        delivery::app::ConversionKind kind) override {
      for (auto& c : s_.conversions[tenant_]) {
        if (c.order_id == order.order_id && c.message_id == message_id && c.kind == kind) {
          if (c.version < order.version) {
            c.currency_code = order.currency_code;
            c.revenue_minor = order.revenue_minor;
            c.version = order.version;
          }
          return false;
        }
      }
      s_.conversions[tenant_].push_back({order.order_id, message_id, kind, order.currency_code,
                                         order.revenue_minor, order.version});
      return true;
    }
    absl::StatusOr<int64_t> DeleteConversions(const std::string& order_id) override {
      auto& all = s_.conversions[tenant_];
      const size_t before = all.size();
      all.erase(std::remove_if(all.begin(), all.end(),
                               [&](const auto& c) { return c.order_id == order_id; }),
                all.end());
      return static_cast<int64_t>(before - all.size());
    }
    void EmitConversion(const delivery::domain::Message& m,
                        const delivery::app::OrderConversion&) override {
      s_.events.push_back(
          {"message.converted", m.id, std::string(delivery::domain::StateName(m.state))});
    }

   private:
    FakeDeliveryState& s_;
    std::string tenant_;
  };

  template <typename T>
  absl::StatusOr<T> RunWrite(
      const outbox::WriteMeta& meta,
      absl::FunctionRef<absl::StatusOr<T>(delivery::app::DeliveryTx&)> work) {
    return uow_.Write<T>(meta, [&](FakeDeliveryState& s) -> absl::StatusOr<T> {
      Tx tx(s, meta.tenant_id);
      return work(tx);
    });
  }
  absl::StatusOr<delivery::domain::Message> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<absl::StatusOr<delivery::domain::Message>(delivery::app::DeliveryTx&)> work)
      override {
    // A retry answers the message as it is now (as the PostgreSQL codec).
    absl::StatusOr<delivery::domain::Message> m = RunWrite<delivery::domain::Message>(meta, work);
    if (!m.ok()) return m;
    return GetMessage(meta.tenant_id, m->id);
  }
  absl::StatusOr<delivery::app::WebhookEndpoint> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<absl::StatusOr<delivery::app::WebhookEndpoint>(delivery::app::DeliveryTx&)>
          work) override {
    return RunWrite<delivery::app::WebhookEndpoint>(meta, work);
  }
  absl::StatusOr<delivery::app::SenderSettings> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<absl::StatusOr<delivery::app::SenderSettings>(delivery::app::DeliveryTx&)>
          work) override {
    return RunWrite<delivery::app::SenderSettings>(meta, work);
  }
  absl::StatusOr<delivery::domain::DeliveryPolicy> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<
          absl::StatusOr<delivery::domain::DeliveryPolicy>(delivery::app::DeliveryTx&)>
          work) override {
    return RunWrite<delivery::domain::DeliveryPolicy>(meta, work);
  }
  absl::StatusOr<std::optional<delivery::domain::DeliveryPolicy>> GetPolicy(
      const std::string& tenant) override {
    return uow_.With([&](const FakeDeliveryState& s) {
      auto it = s.policies.find(tenant);
      return it == s.policies.end() ? std::optional<delivery::domain::DeliveryPolicy>()
                                    : std::optional<delivery::domain::DeliveryPolicy>(it->second);
    });
  }
  absl::StatusOr<delivery::domain::Campaign> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<absl::StatusOr<delivery::domain::Campaign>(delivery::app::DeliveryTx&)>
          work) override {
    return RunWrite<delivery::domain::Campaign>(meta, work);
  }
  absl::StatusOr<delivery::domain::ProviderSettings> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<
          absl::StatusOr<delivery::domain::ProviderSettings>(delivery::app::DeliveryTx&)>
          work) override {
    return RunWrite<delivery::domain::ProviderSettings>(meta, work);
  }
  absl::StatusOr<std::optional<delivery::domain::ProviderSettings>> GetProvider(
      const std::string& tenant, delivery::domain::Channel channel) override {
    return uow_.With([&](const FakeDeliveryState& s) {
      auto it = s.providers.find(absl::StrCat(tenant, "/", delivery::domain::ChannelName(channel)));
      return it == s.providers.end()
                 ? std::optional<delivery::domain::ProviderSettings>()
                 : std::optional<delivery::domain::ProviderSettings>(it->second);
    });
  }
  absl::StatusOr<std::vector<delivery::domain::ProviderSettings>> ListProviders(
      const std::string& tenant) override {
    return uow_.With([&](const FakeDeliveryState& s) {
      std::vector<delivery::domain::ProviderSettings> out;
      for (const auto& [key, p] : s.providers) {
        if (key.rfind(tenant + "/", 0) == 0) out.push_back(p);
      }
      return out;
    });
  }
  absl::StatusOr<delivery::domain::Campaign> GetCampaign(const std::string& tenant,
                                                         const std::string& id) override {
    return uow_.With([&](const FakeDeliveryState& s) -> absl::StatusOr<delivery::domain::Campaign> {
      auto t = s.campaigns.find(tenant);
      if (t == s.campaigns.end() || !t->second.count(id)) {
        return delivery::domain::CampaignNotFound(id);
      }
      return t->second.at(id);
    });
  }
  absl::StatusOr<std::vector<delivery::domain::Campaign>> ListCampaigns(
      const std::string& tenant) override {
    return uow_.With([&](const FakeDeliveryState& s) {
      std::vector<delivery::domain::Campaign> out;
      auto t = s.campaigns.find(tenant);
      if (t != s.campaigns.end()) {
        for (const auto& [id, c] : t->second) out.push_back(c);
      }
      return out;
    });
  }
  absl::StatusOr<std::vector<delivery::domain::Campaign>> TriggeredCampaigns(
      const std::string& tenant, delivery::domain::TriggerKind kind) override {
    return uow_.With([&](const FakeDeliveryState& s) {
      std::vector<delivery::domain::Campaign> out;
      auto t = s.campaigns.find(tenant);
      if (t != s.campaigns.end()) {
        for (const auto& [id, c] : t->second) {
          if (c.state == delivery::domain::CampaignState::kRunning && c.trigger.kind == kind) {
            out.push_back(c);
          }
        }
      }
      return out;
    });
  }
  absl::StatusOr<std::vector<delivery::app::CampaignCount>> CountCampaignMessages(
      const std::string& tenant, const std::string& campaign_id) override {
    return uow_.With([&](const FakeDeliveryState& s) {
      std::map<std::tuple<std::string, delivery::domain::State, delivery::domain::Suppression>,
               delivery::app::CampaignCount>
          counts;
      auto t = s.messages.find(tenant);
      if (t != s.messages.end()) {
        for (const auto& [id, m] : t->second) {
          if (m.campaign_id != campaign_id) continue;
          delivery::app::CampaignCount& c = counts[{m.variant_id, m.state, m.suppression}];
          c.variant_id = m.variant_id;
          c.state = m.state;
          c.suppression = m.suppression;
          c.count += 1;
          c.opened += m.first_open_time ? 1 : 0;
          c.clicked += m.first_click_time ? 1 : 0;
          c.unsubscribed += m.unsubscribe_time ? 1 : 0;
          c.delivered += m.receipt == delivery::domain::Receipt::kDelivered ? 1 : 0;
          c.bounced += m.receipt == delivery::domain::Receipt::kBounced ? 1 : 0;
        }
      }
      std::vector<delivery::app::CampaignCount> out;
      for (const auto& [k, c] : counts) out.push_back(c);
      return out;
    });
  }
  absl::StatusOr<std::vector<delivery::app::OfferCount>> CountCampaignOffers(
      const std::string& tenant, const std::string& campaign_id) override {
    return uow_.With([&](const FakeDeliveryState& s) {
      // (offer, currency) -> messages and revenue; currency "" for the sent.
      std::map<std::pair<std::string, std::string>, std::set<std::string>> messages;
      std::map<std::pair<std::string, std::string>, int64_t> revenue;
      auto rows = s.messages.find(tenant);
      if (rows == s.messages.end()) return std::vector<delivery::app::OfferCount>();
      for (const auto& [id, m] : rows->second) {
        if (m.campaign_id != campaign_id || m.state != delivery::domain::State::kSent) continue;
        for (const std::string& offer : m.offer_ids) {
          messages[{offer, ""}].insert(id);
          auto t = s.conversions.find(tenant);
          if (t == s.conversions.end()) continue;
          for (const auto& c : t->second) {
            if (c.message_id != id || c.kind != delivery::app::ConversionKind::kCredited) continue;
            messages[{offer, c.currency_code}].insert(id);
            revenue[{offer, c.currency_code}] += c.revenue_minor;
          }
        }
      }
      std::vector<delivery::app::OfferCount> out;
      for (const auto& [k, ids] : messages) {
        out.push_back({k.first, k.second, static_cast<int64_t>(ids.size()), revenue[k]});
      }
      return out;
    });
  }
  absl::StatusOr<std::vector<delivery::app::ConversionCount>> CountCampaignConversions(
      const std::string& tenant, const std::string& campaign_id) override {
    return uow_.With([&](const FakeDeliveryState& s) {
      // (variant, kind, currency) -> messages and revenue; currency "" for all.
      std::map<std::tuple<std::string, int, std::string>, std::set<std::string>> messages;
      std::map<std::tuple<std::string, int, std::string>, int64_t> revenue;
      auto t = s.conversions.find(tenant);
      auto rows = s.messages.find(tenant);
      if (t != s.conversions.end() && rows != s.messages.end()) {
        for (const auto& c : t->second) {
          auto m = rows->second.find(c.message_id);
          if (m == rows->second.end() || m->second.campaign_id != campaign_id) continue;
          for (const std::string& currency : {std::string(), c.currency_code}) {
            auto k = std::make_tuple(m->second.variant_id, static_cast<int>(c.kind), currency);
            messages[k].insert(c.message_id);
            revenue[k] += c.revenue_minor;
          }
        }
      }
      std::vector<delivery::app::ConversionCount> out;
      for (const auto& [k, ids] : messages) {
        out.push_back({std::get<0>(k), static_cast<delivery::app::ConversionKind>(std::get<1>(k)),
                       std::get<2>(k), static_cast<int64_t>(ids.size()), revenue[k]});
      }
      return out;
    });
  }
  absl::StatusOr<std::vector<CampaignRef>> ActiveCampaigns(int limit) override {
    const absl::Time now = clock_.Now();
    return uow_.With([&](const FakeDeliveryState& s) {
      std::vector<CampaignRef> out;
      for (const auto& [tenant, all] : s.campaigns) {
        for (const auto& [id, c] : all) {
          if (static_cast<int>(out.size()) >= limit) return out;
          if (c.state == delivery::domain::CampaignState::kRunning ||
              (c.state == delivery::domain::CampaignState::kScheduled && c.start_time &&
               *c.start_time <= now)) {
            out.push_back({tenant, id});
          }
        }
      }
      return out;
    });
  }
  absl::StatusOr<bool> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<absl::StatusOr<bool>(delivery::app::DeliveryTx&)> work) override {
    return RunWrite<bool>(meta, work);
  }

  absl::StatusOr<delivery::domain::Message> GetMessage(const std::string& tenant,
                                                       const std::string& id) override {
    return uow_.With([&](const FakeDeliveryState& s) -> absl::StatusOr<delivery::domain::Message> {
      auto t = s.messages.find(tenant);
      if (t == s.messages.end() || !t->second.count(id)) {
        return delivery::domain::MessageNotFound(id);
      }
      return t->second.at(id);
    });
  }
  absl::StatusOr<delivery::app::MessagePage> ListCustomerMessages(
      const std::string& tenant, const std::string& customer_id,
      const delivery::app::Page&) override {
    return uow_.With([&](const FakeDeliveryState& s) {
      delivery::app::MessagePage page;
      auto t = s.messages.find(tenant);
      if (t == s.messages.end()) return page;
      for (const auto& [id, m] : t->second) {
        if (m.customer_id == customer_id) page.messages.push_back(m);
      }
      return page;
    });
  }
  absl::StatusOr<delivery::app::MessagePage> ListMessages(const std::string& tenant,
                                                          delivery::domain::State state,
                                                          const delivery::app::Page&) override {
    return uow_.With([&](const FakeDeliveryState& s) {
      delivery::app::MessagePage page;
      auto t = s.messages.find(tenant);
      if (t == s.messages.end()) return page;
      for (const auto& [id, m] : t->second) {
        if (m.state == state) page.messages.push_back(m);
      }
      return page;
    });
  }
  absl::StatusOr<delivery::app::WebhookEndpoint> GetEndpoint(const std::string& tenant,
                                                             const std::string& id) override {
    return uow_.With(
        [&](const FakeDeliveryState& s) -> absl::StatusOr<delivery::app::WebhookEndpoint> {
          auto t = s.endpoints.find(tenant);
          if (t == s.endpoints.end() || !t->second.count(id)) {
            return delivery::domain::EndpointNotFound(id);
          }
          return t->second.at(id);
        });
  }
  absl::StatusOr<delivery::app::SuppressionPage> ListSuppressions(
      const std::string& tenant, delivery::domain::Channel channel,
      const delivery::app::Page& page) override {
    return uow_.With([&](const FakeDeliveryState& s) {
      delivery::app::SuppressionPage out;
      auto t = s.suppressions.find(tenant);
      if (t == s.suppressions.end()) return out;
      std::vector<delivery::app::SuppressedAddress> all;
      for (const auto& [key, a] : t->second) {
        if (a.channel == channel) all.push_back(a);
      }
      std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
        return std::tie(a.create_time, a.address) > std::tie(b.create_time, b.address);
      });
      for (const auto& a : all) {
        const std::string key = absl::StrCat(absl::ToUnixMicros(a.create_time), "/", a.address);
        if (!page.after.empty() && key >= page.after) continue;  // same-length micros
        if (static_cast<int>(out.items.size()) == page.size) {
          const auto& last = out.items.back();
          out.next_after = absl::StrCat(absl::ToUnixMicros(last.create_time), "/", last.address);
          break;
        }
        out.items.push_back(a);
      }
      return out;
    });
  }
  absl::StatusOr<std::vector<std::string>> SuppressedAmong(
      const std::string& tenant, delivery::domain::Channel channel,
      const std::vector<std::string>& addresses) override {
    ++suppression_reads;
    return uow_.With([&](const FakeDeliveryState& s) {
      std::vector<std::string> out;
      auto t = s.suppressions.find(tenant);
      if (t == s.suppressions.end()) return out;
      for (const std::string& a : addresses) {
        if (t->second.count(absl::StrCat(delivery::domain::ChannelName(channel), "/", a))) {
          out.push_back(a);
        }
      }
      return out;
    });
  }
  int suppression_reads = 0;
  absl::StatusOr<std::vector<delivery::app::WebhookEndpoint>> ListEndpoints(
      const std::string& tenant) override {
    return uow_.With([&](const FakeDeliveryState& s) {
      std::vector<delivery::app::WebhookEndpoint> out;
      auto t = s.endpoints.find(tenant);
      if (t != s.endpoints.end()) {
        for (const auto& [id, e] : t->second) out.push_back(e);
      }
      return out;
    });
  }
  absl::StatusOr<std::optional<delivery::app::SenderSettings>> GetSenderSettings(
      const std::string& tenant) override {
    return uow_.With([&](const FakeDeliveryState& s) {
      auto it = s.senders.find(tenant);
      return it == s.senders.end() ? std::optional<delivery::app::SenderSettings>()
                                   : std::optional<delivery::app::SenderSettings>(it->second);
    });
  }

  absl::StatusOr<int64_t> EraseCustomers(const std::string& tenant, const std::string& event_id,
                                         const std::vector<std::string>& customer_ids) override {
    return uow_.WithMutable([&](FakeDeliveryState& s) {
      int64_t n = 0;
      if (!s.processed_events.insert(tenant + "/" + event_id).second) return n;
      auto& all = s.messages[tenant];
      for (auto it = all.begin(); it != all.end();) {
        if (std::find(customer_ids.begin(), customer_ids.end(), it->second.customer_id) !=
            customer_ids.end()) {
          it = all.erase(it);
          ++n;
        } else {
          ++it;
        }
      }
      return n;
    });
  }
  absl::StatusOr<std::vector<ClaimResult>> ClaimBatch(
      const std::string& tenant, const std::vector<std::string>& ids, absl::Duration lease,
      const std::vector<delivery::domain::FrequencyCap>& caps) override {
    ++claim_batches;
    std::vector<ClaimResult> out;
    std::set<std::string> seen;
    for (const std::string& id : ids) {
      if (!seen.insert(id).second) {
        out.emplace_back();
        continue;
      }
      CRM_ASSIGN_OR_RETURN(ClaimResult r, ClaimOne(tenant, id, lease, caps));
      out.push_back(std::move(r));
    }
    return out;
  }
  absl::StatusOr<std::vector<bool>> FinishBatch(const std::string& tenant,
                                                const std::vector<Finished>& rows) override {
    std::vector<bool> out;
    for (const Finished& f : rows) {
      CRM_ASSIGN_OR_RETURN(bool done,
                           FinishOne(tenant, f.message, f.claimed_attempts, f.event_type));
      out.push_back(done);
    }
    return out;
  }
  int claim_batches = 0;
  // tenant/id of the rows whose send is marked as started now.
  std::set<std::string> SendStarted() {
    std::set<std::string> out;
    (void)uow_.WithMutable([&](FakeDeliveryState& s) {
      out = s.send_started;
      return true;
    });
    return out;
  }
  absl::StatusOr<bool> MarkSendStarted(const std::string& tenant, const std::string& id,
                                       int claimed_attempts) override {
    return uow_.WithMutable([&](FakeDeliveryState& s) {
      auto& all = s.messages[tenant];
      auto it = all.find(id);
      if (it == all.end() || it->second.state != delivery::domain::State::kSending ||
          it->second.attempts != claimed_attempts) {
        return false;
      }
      s.send_started.insert(tenant + "/" + id);
      return true;
    });
  }

 private:
  absl::StatusOr<ClaimResult> ClaimOne(const std::string& tenant, const std::string& id,
                                       absl::Duration lease,
                                       const std::vector<delivery::domain::FrequencyCap>& caps) {
    const absl::Time now = clock_.Now();
    return uow_.WithMutable([&](FakeDeliveryState& s) -> ClaimResult {
      ClaimResult out;
      auto& all = s.messages[tenant];
      auto it = all.find(id);
      if (it == all.end()) return out;
      delivery::domain::Message& m = it->second;
      if ((m.state != delivery::domain::State::kQueued &&
           m.state != delivery::domain::State::kRetrying) ||
          m.next_attempt_time.value_or(absl::InfiniteFuture()) > now) {
        return out;
      }
      if (!m.campaign_id.empty()) {
        auto c = s.campaigns[tenant].find(m.campaign_id);
        if (c == s.campaigns[tenant].end() || !delivery::domain::CampaignSends(c->second.state)) {
          return out;
        }
      }
      if (m.purpose == delivery::domain::Purpose::kMarketing) {
        for (const auto& cap : delivery::domain::CapsFor(caps, m.channel)) {
          int count = 0;
          for (const auto& [other_id, o] : all) {
            if (other_id == id || o.customer_id != m.customer_id || o.channel != m.channel ||
                o.purpose != delivery::domain::Purpose::kMarketing) {
              continue;
            }
            if (o.state == delivery::domain::State::kSending ||
                (o.state == delivery::domain::State::kSent && o.send_time &&
                 *o.send_time > now - cap.window)) {
              ++count;
            }
          }
          if (count >= cap.max_messages) {
            m.state = delivery::domain::State::kSuppressed;
            m.suppression = delivery::domain::Suppression::kFrequencyCap;
            m.next_attempt_time.reset();
            s.events.push_back({"message.suppressed", m.id, "suppressed"});
            out.capped = m;
            return out;
          }
        }
      }
      m.state = delivery::domain::State::kSending;
      ++m.attempts;
      s.claimed_until[tenant + "/" + id] = absl::StrCat(absl::ToUnixMicros(now + lease));
      s.send_started.erase(tenant + "/" + id);
      out.claimed = m;
      return out;
    });
  }
  absl::StatusOr<bool> FinishOne(const std::string& tenant, const delivery::domain::Message& m,
                                 int claimed_attempts, const std::string& event_type) {
    return uow_.WithMutable([&](FakeDeliveryState& s) {
      auto& all = s.messages[tenant];
      auto it = all.find(m.id);
      if (it == all.end() || it->second.state != delivery::domain::State::kSending ||
          it->second.attempts != claimed_attempts) {
        return false;
      }
      it->second = m;
      s.claimed_until.erase(tenant + "/" + m.id);
      s.send_started.erase(tenant + "/" + m.id);
      if (!event_type.empty()) {
        s.events.push_back({event_type, m.id, std::string(delivery::domain::StateName(m.state))});
      }
      return true;
    });
  }

 public:
  absl::StatusOr<std::vector<Due>> TakeDue(absl::Duration, int limit) override {
    const absl::Time now = clock_.Now();
    return uow_.With([&](const FakeDeliveryState& s) {
      std::vector<Due> out;
      for (const auto& [tenant, all] : s.messages) {
        for (const auto& [id, m] : all) {
          if (static_cast<int>(out.size()) >= limit) return out;
          if ((m.state == delivery::domain::State::kQueued ||
               m.state == delivery::domain::State::kRetrying) &&
              m.next_attempt_time.value_or(absl::InfiniteFuture()) <= now) {
            out.push_back({tenant, id});
          }
        }
      }
      return out;
    });
  }
  absl::StatusOr<int> ResolveLostClaims(int) override {
    const absl::Time now = clock_.Now();
    return uow_.WithMutable([&](FakeDeliveryState& s) {
      int n = 0;
      for (auto it = s.claimed_until.begin(); it != s.claimed_until.end();) {
        int64_t until = 0;
        (void)absl::SimpleAtoi(it->second, &until);
        if (absl::FromUnixMicros(until) >= now) {
          ++it;
          continue;
        }
        const size_t slash = it->first.find('/');
        delivery::domain::Message& m =
            s.messages[it->first.substr(0, slash)][it->first.substr(slash + 1)];
        delivery::domain::ApplyLostClaim(m, now, s.send_started.count(it->first) > 0);
        s.send_started.erase(it->first);
        it = s.claimed_until.erase(it);
        ++n;
      }
      return n;
    });
  }

  // Test helpers.
  std::vector<FakeDeliveryState::Event> events() const {
    return uow_.With([](const FakeDeliveryState& s) { return s.events; });
  }

 private:
  const common::Clock& clock_;
  FakeUnitOfWork<FakeDeliveryState> uow_;
};

class FakeSegmentDirectory final : public delivery::app::SegmentDirectory {
 public:
  absl::Status CheckSegment(const std::string& tenant, const std::string& segment_id) override {
    if (!members.count(tenant + "/" + segment_id)) {
      return common::NotFound("SEGMENT_NOT_FOUND", "segment " + segment_id + " not found");
    }
    return absl::OkStatus();
  }
  // Pages of `page_size` in the list's order; the cursor is the offset.
  absl::StatusOr<delivery::app::MemberPage> Members(const std::string& tenant,
                                                    const std::string& segment_id,
                                                    const std::string& cursor,
                                                    int page_size) override {
    ++calls;
    if (!down.ok()) return down;
    auto it = members.find(tenant + "/" + segment_id);
    if (it == members.end()) {
      return common::NotFound("SEGMENT_NOT_FOUND", "segment " + segment_id + " not found");
    }
    size_t offset = cursor.empty() ? 0 : std::stoul(cursor);
    delivery::app::MemberPage page;
    const size_t end = std::min(it->second.size(), offset + static_cast<size_t>(page_size));
    for (size_t i = offset; i < end; ++i) page.customer_ids.push_back(it->second[i]);
    if (end < it->second.size()) page.next_cursor = std::to_string(end);
    return page;
  }
  // A journey's condition: true for the customers listed under it.
  absl::StatusOr<bool> Matches(const std::string& tenant, const std::string& customer_id,
                               const std::string& expression) override {
    ++calls;
    if (!down.ok()) return down;
    auto it = matching.find(tenant + "/" + expression);
    return it != matching.end() && it->second.count(customer_id) > 0;
  }
  std::map<std::string, std::vector<std::string>> members;  // tenant/segment -> ids
  std::map<std::string, std::set<std::string>> matching;    // tenant/expression -> ids
  absl::Status down;
  int calls = 0;
};

class FakeWorkQueue final : public delivery::app::WorkQueue {
 public:
  absl::Status Enqueue(const std::vector<delivery::app::Ledger::Due>& items) override {
    if (!up) return absl::UnavailableError("redis down");
    for (const auto& d : items) queued.push_back(d);
    return absl::OkStatus();
  }
  bool up = true;
  std::vector<delivery::app::Ledger::Due> queued;
};

class FakeCustomerDirectory final : public delivery::app::CustomerDirectory {
 public:
  absl::StatusOr<std::map<std::string, delivery::app::Contact>> GetContacts(
      const std::string& tenant, const std::vector<std::string>& customer_ids) override {
    ++calls;
    if (on_read) on_read();
    if (!down.ok()) return down;
    std::map<std::string, delivery::app::Contact> out;
    for (const std::string& id : customer_ids) {
      auto it = contacts.find(tenant + "/" + id);
      if (it != contacts.end()) out[id] = it->second;
    }
    return out;
  }
  absl::Status RecordOptOut(const std::string& tenant, const std::string& customer_id,
                            const OptOut& o) override {
    if (!down.ok()) return down;
    auto it = contacts.find(tenant + "/" + customer_id);
    if (it == contacts.end()) return absl::NotFoundError("customer not found");
    it->second.consents[o.channel][o.purpose] = delivery::domain::ConsentStatus::kOptedOut;
    opt_outs.push_back(o.message_id);
    return absl::OkStatus();
  }
  absl::Status SetAttribute(const std::string& tenant, const std::string& customer_id,
                            const std::string& name, const delivery::domain::AttributeValue& value,
                            const std::string& request_id) override {
    if (!down.ok()) return down;
    if (contacts.find(tenant + "/" + customer_id) == contacts.end()) {
      return absl::NotFoundError("customer not found");
    }
    // Once per request id, as customer-store's idempotency key.
    if (attribute_requests.insert(request_id).second) {
      attributes[tenant + "/" + customer_id + "/" + name].push_back(value.string_value);
    }
    return absl::OkStatus();
  }
  std::map<std::string, delivery::app::Contact> contacts;  // tenant/customer
  std::vector<std::string> opt_outs;                       // message ids
  // tenant/customer/attribute -> the string values set, in order
  std::map<std::string, std::vector<std::string>> attributes;
  std::set<std::string> attribute_requests;
  absl::Status down;
  std::function<void()> on_read;  // e.g. time passing while the sender reads
  int calls = 0;
};

class FakeRenderer final : public delivery::app::Renderer {
 public:
  absl::StatusOr<std::string> TemplateChannel(const std::string& tenant,
                                              const std::string& template_id) override {
    auto it = channels.find(tenant + "/" + template_id);
    if (it == channels.end()) {
      return common::NotFound("TEMPLATE_NOT_FOUND", absl::StrCat("template ", template_id));
    }
    return it->second;
  }
  absl::StatusOr<std::vector<absl::StatusOr<delivery::app::Rendered>>> RenderBatch(
      const std::string& tenant, const std::vector<Request>& requests) override {
    ++batches;
    if (!down.ok()) return down;
    std::vector<absl::StatusOr<delivery::app::Rendered>> out;
    for (const Request& r : requests) {
      out.push_back(Render(tenant, r.template_id, r.customer_id, r.request_id, r.unsubscribe_url));
    }
    return out;
  }
  absl::StatusOr<delivery::app::Rendered> Render(const std::string& tenant,
                                                 const std::string& template_id,
                                                 const std::string& customer_id,
                                                 const std::string& request_id,
                                                 const std::string& unsubscribe_url) {
    ++renders;
    last_request_id = request_id;
    last_unsubscribe_url = unsubscribe_url;
    auto it = channels.find(tenant + "/" + template_id);
    if (it == channels.end()) {
      return common::NotFound("TEMPLATE_NOT_FOUND", absl::StrCat("template ", template_id));
    }
    delivery::app::Rendered r;
    r.parts = {{"subject", "Hello"},
               {"text", "Hi " + customer_id},
               {"json", "{\"x\":1}"},
               {"title", "Title"},
               {"body", "Body"}};
    if (!html.empty()) r.parts["html"] = html;
    r.decision_ids = {"d-1"};
    r.offer_ids = {"o-1"};
    return r;
  }
  std::map<std::string, std::string> channels;  // tenant/template -> channel name
  absl::Status down;
  int renders = 0;
  int batches = 0;  // RenderBatch calls
  std::string last_request_id;
  std::string last_unsubscribe_url;
  std::string html;  // the html part every render has ("": none)
};

// The service desk's outbound mail by "<tenant>/<ticket id>/<mail id>";
// `down` answers UNAVAILABLE.
class FakeTicketMailSource final : public delivery::app::TicketMailSource {
 public:
  absl::StatusOr<delivery::app::TicketMail> GetTicketMail(const std::string& tenant,
                                                          const std::string& ticket_id,
                                                          const std::string& mail_id) override {
    if (down) return absl::UnavailableError("service desk down");
    auto it = mails.find(tenant + "/" + ticket_id + "/" + mail_id);
    if (it == mails.end()) return absl::NotFoundError("no such outbound mail");
    return it->second;
  }
  std::map<std::string, delivery::app::TicketMail> mails;
  bool down = false;
};

class FakeEmailChannel final : public delivery::app::EmailChannel {
 public:
  delivery::domain::SendResult Send(const delivery::app::OutboundEmail& email) override {
    sent.push_back(email);
    if (on_send) on_send();
    delivery::domain::SendResult r = next;
    if (r.outcome == delivery::domain::Outcome::kDelivered)
      r.provider_id = "<" + email.message_id + ">";
    return r;
  }
  delivery::domain::SendResult next;
  std::vector<delivery::app::OutboundEmail> sent;
  std::function<void()> on_send;  // e.g. the clock moving during a send
};

class FakeWebhookChannel final : public delivery::app::WebhookChannel {
 public:
  delivery::domain::SendResult Send(const delivery::app::OutboundWebhook& hook) override {
    sent.push_back(hook);
    return next;
  }
  delivery::domain::SendResult next;
  std::vector<delivery::app::OutboundWebhook> sent;
};

class FakeNotificationChannel final : public delivery::app::NotificationChannel {
 public:
  delivery::domain::SendResult Send(const delivery::app::OutboundNotification& n) override {
    sent.push_back(n);
    delivery::domain::SendResult r = next;
    if (r.outcome == delivery::domain::Outcome::kDelivered)
      r.provider_id = "p-" + n.notification.message_id;
    return r;
  }
  delivery::domain::SendResult next;
  std::vector<delivery::app::OutboundNotification> sent;
};

class FakeResolver final : public delivery::app::HostResolver {
 public:
  absl::StatusOr<std::vector<delivery::domain::IpAddress>> Resolve(
      const std::string& host) override {
    auto it = hosts.find(host);
    if (it == hosts.end()) return absl::NotFoundError("unknown host");
    std::vector<delivery::domain::IpAddress> out;
    for (const std::string& a : it->second) out.push_back(*delivery::domain::ParseIp(a));
    return out;
  }
  std::map<std::string, std::vector<std::string>> hosts;
};

}  // namespace crm::testing
