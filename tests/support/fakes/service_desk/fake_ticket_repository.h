#pragma once
// The tickets' storage in memory (app::TicketRepository) with the unit of
// work's key rules (fake_unit_of_work.h), and a customer directory that
// knows a set of customers and creates one per new email.
#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "services/service_desk/app/ports.h"
#include "tests/support/fakes/fake_unit_of_work.h"

namespace crm::testing {

class FakeTicketRepository final : public service_desk::app::TicketRepository {
 public:
  struct Event {
    std::string type;
    std::string ticket_id;
    std::string notice;  // an SLA notice's key
  };
  struct SlaRow {
    int64_t policy_version = -1;
    std::optional<absl::Time> next_due;
    std::vector<std::string> told;
    std::string policy;
  };
  struct State {
    // tenant → ticket id → ticket
    std::map<std::string, std::map<std::string, service_desk::domain::Ticket>> tickets;
    std::map<std::string, int64_t> numbers;
    std::map<std::string, std::vector<service_desk::domain::TicketMessage>> messages;  // by ticket
    std::map<std::string, std::vector<service_desk::domain::TicketChange>> changes;    // by ticket
    std::map<std::string, service_desk::domain::SlaPolicies> sla_policies;             // by tenant
    std::map<std::string, std::map<std::string, SlaRow>> slas;        // tenant → ticket id
    std::map<std::string, service_desk::app::SlaRebase> sla_rebases;  // by tenant
    std::vector<Event> events;
    // Inbound mail: the mailboxes tests register, each tenant's mail
    // records, each ticket's participants.
    std::map<std::string, service_desk::app::Mailbox> mailboxes;  // by id
    std::map<std::string, std::string> mailbox_tenants;           // by id; "" = any (AddMailbox)
    std::map<std::string, std::string> mailbox_routes;            // address → mailbox id
    std::map<std::string, service_desk::domain::RoutingRules> routing;        // by tenant
    std::map<std::string, service_desk::domain::Triggers> triggers;           // by tenant
    std::map<std::string, service_desk::domain::Automations> automations;     // by tenant
    // Attachments by tenant and id; their bytes by "<tenant>/<sha256>".
    std::map<std::string, std::map<std::string, service_desk::domain::Attachment>> attachments;
    std::map<std::string, std::string> attachment_bytes;
    // Survey settings by tenant; surveys by tenant and id; events of answers.
    std::map<std::string, service_desk::domain::SurveySettings> survey_settings;
    std::map<std::string, std::map<std::string, service_desk::domain::Survey>> surveys;
    // Articles by tenant and id; every version by "<tenant>/<id>".
    std::map<std::string, std::map<std::string, service_desk::domain::Article>> articles;
    std::map<std::string, std::vector<service_desk::domain::Article>> article_versions;
    // Firings by "<tenant>/<ticket>/<automation>".
    std::map<std::string, absl::Time> firings;
    std::map<std::string, std::vector<service_desk::app::MailRecord>> mails;  // by tenant
    std::map<std::string, std::set<std::string>> participants;                // by ticket
    // Outbound mail by tenant; the loop limits by "<tenant>/<mailbox>/<address>".
    std::map<std::string, std::vector<service_desk::domain::OutboundMail>> outbound;
    std::map<std::string, absl::Time> auto_replies;
    std::map<std::string, absl::Time> quarantine;
    // Agents by tenant and id.
    std::map<std::string, std::map<std::string, service_desk::domain::Agent>> agents;
    // Macros by tenant and id.
    std::map<std::string, std::map<std::string, service_desk::domain::Macro>> macros;
    // Classifiers by tenant and target, with their models' bytes; a
    // ticket's predictions by ticket id.
    std::map<std::string, std::map<int, std::pair<service_desk::domain::Classifier, std::string>>>
        classifiers;
    std::map<std::string, std::vector<service_desk::domain::TicketPrediction>> predictions;
  };

  // An agent's open tickets (assigned, not solved or closed).
  static int OpenOf(const State& s, const std::string& tenant, const std::string& agent) {
    int n = 0;
    const auto t = s.tickets.find(tenant);
    if (t == s.tickets.end()) return 0;
    for (const auto& [id, ticket] : t->second) {
      if (ticket.assignee == agent &&
          ticket.status != service_desk::domain::TicketStatus::kSolved &&
          ticket.status != service_desk::domain::TicketStatus::kClosed) {
        ++n;
      }
    }
    return n;
  }

  absl::StatusOr<service_desk::domain::Ticket> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<absl::StatusOr<service_desk::domain::Ticket>(service_desk::app::TicketTx&)>
          work) override {
    return Run<service_desk::domain::Ticket>(meta, work);
  }
  absl::StatusOr<service_desk::app::MessageAdded> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<
          absl::StatusOr<service_desk::app::MessageAdded>(service_desk::app::TicketTx&)>
          work) override {
    return Run<service_desk::app::MessageAdded>(meta, work);
  }
  absl::StatusOr<service_desk::domain::SlaPolicies> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<
          absl::StatusOr<service_desk::domain::SlaPolicies>(service_desk::app::TicketTx&)>
          work) override {
    return Run<service_desk::domain::SlaPolicies>(meta, work);
  }

  absl::StatusOr<service_desk::app::SlaSweep> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<absl::StatusOr<service_desk::app::SlaSweep>(service_desk::app::TicketTx&)>
          work) override {
    return Run<service_desk::app::SlaSweep>(meta, work);
  }

  absl::StatusOr<service_desk::app::MailReceived> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<
          absl::StatusOr<service_desk::app::MailReceived>(service_desk::app::TicketTx&)>
          work) override {
    return Run<service_desk::app::MailReceived>(meta, work);
  }

  absl::StatusOr<std::optional<service_desk::app::MailThread>> TicketOfMail(
      const std::string& tenant, const std::vector<std::string>& ids) override {
    const State s = state();
    auto all = s.mails.find(tenant);
    if (all == s.mails.end()) return std::optional<service_desk::app::MailThread>();
    for (const std::string& id : ids) {
      for (const service_desk::app::MailRecord& r : all->second) {
        if (r.mail_id == id) {
          return std::optional<service_desk::app::MailThread>(
              service_desk::app::MailThread{s.tickets.at(tenant).at(r.ticket_id), r.mail_id});
        }
      }
    }
    return std::optional<service_desk::app::MailThread>();
  }
  absl::StatusOr<std::optional<service_desk::app::MessageAdded>> ReceivedMail(
      const std::string& tenant, const std::string& mailbox_id,
      const std::string& mail_id) override {
    const State s = state();
    auto all = s.mails.find(tenant);
    if (all == s.mails.end()) return std::optional<service_desk::app::MessageAdded>();
    for (const service_desk::app::MailRecord& r : all->second) {
      if (r.outbound || r.mailbox_id != mailbox_id || r.mail_id != mail_id) continue;
      for (const service_desk::domain::TicketMessage& m : s.messages.at(r.ticket_id)) {
        if (m.id == r.ticket_message_id) {
          return std::optional<service_desk::app::MessageAdded>(
              service_desk::app::MessageAdded{m, s.tickets.at(tenant).at(r.ticket_id)});
        }
      }
    }
    return std::optional<service_desk::app::MessageAdded>();
  }
  // As the keys' expiry does (CRM_IDEMPOTENCY_KEY_TTL).
  void ForgetKeys() { uow_.ForgetKeys(); }
  absl::StatusOr<std::optional<service_desk::domain::Ticket>> TicketNumbered(
      const std::string& tenant, int64_t number) override {
    const State s = state();
    auto all = s.tickets.find(tenant);
    if (all != s.tickets.end()) {
      for (const auto& [id, t] : all->second) {
        if (t.number == number) return std::optional<service_desk::domain::Ticket>(t);
      }
    }
    return std::optional<service_desk::domain::Ticket>();
  }
  absl::StatusOr<bool> IsParticipant(const std::string& tenant, const std::string& ticket_id,
                                     const std::string& addr) override {
    absl::StatusOr<service_desk::domain::Ticket> t = GetTicket(tenant, ticket_id);
    if (!t.ok()) return false;
    const State s = state();
    auto p = s.participants.find(ticket_id);
    return t->requester_email == addr || (p != s.participants.end() && p->second.count(addr));
  }
  absl::StatusOr<std::optional<std::string>> SameSubjectTicket(const std::string& tenant,
                                                               const std::string& mailbox_id,
                                                               const std::string& from,
                                                               const std::string& subject,
                                                               absl::Time since) override {
    const State s = state();
    std::optional<std::string> out;
    auto all = s.mails.find(tenant);
    if (all == s.mails.end()) return out;
    for (const service_desk::app::MailRecord& r : all->second) {
      if (!r.outbound && r.mailbox_id == mailbox_id && r.from_addr == from &&
          r.thread_subject == subject && r.time >= since) {
        out = r.ticket_id;
      }
    }
    return out;
  }
  absl::StatusOr<bool> Quarantined(const std::string& tenant, const std::string& mailbox_id,
                                   const std::string& addr, absl::Time now) override {
    const State s = state();
    auto q = s.quarantine.find(absl::StrCat(tenant, "/", mailbox_id, "/", addr));
    return q != s.quarantine.end() && q->second > now;
  }
  absl::StatusOr<std::optional<std::string>> LatestTicketFrom(const std::string& tenant,
                                                              const std::string& mailbox_id,
                                                              const std::string& addr) override {
    const State s = state();
    std::optional<std::string> out;
    auto all = s.mails.find(tenant);
    if (all == s.mails.end()) return out;
    for (const service_desk::app::MailRecord& r : all->second) {
      if (!r.outbound && r.mailbox_id == mailbox_id && r.from_addr == addr) out = r.ticket_id;
    }
    return out;
  }
  absl::StatusOr<service_desk::domain::OutboundMail> GetOutboundMail(
      const std::string& tenant, const std::string& ticket_id,
      const std::string& mail_id) override {
    const State s = state();
    auto all = s.outbound.find(tenant);
    if (all != s.outbound.end()) {
      for (service_desk::domain::OutboundMail m : all->second) {
        if (m.ticket_id != ticket_id || m.id != mail_id) continue;
        // The reply's files with their bytes, in upload order.
        auto files = s.attachments.find(tenant);
        if (!m.ticket_message_id.empty() && files != s.attachments.end()) {
          for (const auto& [id, a] : files->second) {
            if (a.message_id != m.ticket_message_id) continue;
            m.files.push_back({a, s.attachment_bytes.at(tenant + "/" + a.sha256_hex)});
          }
          std::stable_sort(m.files.begin(), m.files.end(), [](const auto& x, const auto& y) {
            return x.attachment.create_time < y.attachment.create_time;
          });
        }
        return m;
      }
    }
    return crm::common::NotFound("OUTBOUND_MAIL_NOT_FOUND",
                                 "the ticket has no outbound mail of this id");
  }
  // Every outbound mail of the tenant, in the order written.
  std::vector<service_desk::domain::OutboundMail> Outbound(const std::string& tenant) const {
    const State s = state();
    auto all = s.outbound.find(tenant);
    return all == s.outbound.end() ? std::vector<service_desk::domain::OutboundMail>()
                                   : all->second;
  }
  void AddMailbox(const service_desk::app::Mailbox& m) {
    uow_.WithMutable([&](State& s) {
      s.mailboxes[m.id] = m;
      s.mailbox_tenants[m.id] = "";
      s.mailbox_routes[m.address] = m.id;
      return 0;
    });
  }
  absl::StatusOr<service_desk::app::Mailbox> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<absl::StatusOr<service_desk::app::Mailbox>(service_desk::app::TicketTx&)>
          work) override {
    return Run<service_desk::app::Mailbox>(meta, work);
  }
  absl::StatusOr<service_desk::domain::RoutingRules> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<
          absl::StatusOr<service_desk::domain::RoutingRules>(service_desk::app::TicketTx&)>
          work) override {
    return Run<service_desk::domain::RoutingRules>(meta, work);
  }
  absl::StatusOr<service_desk::domain::Article> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<absl::StatusOr<service_desk::domain::Article>(service_desk::app::TicketTx&)>
          work) override {
    return Run<service_desk::domain::Article>(meta, work);
  }
  absl::StatusOr<service_desk::domain::Automations> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<
          absl::StatusOr<service_desk::domain::Automations>(service_desk::app::TicketTx&)>
          work) override {
    return Run<service_desk::domain::Automations>(meta, work);
  }
  absl::StatusOr<service_desk::domain::Triggers> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<
          absl::StatusOr<service_desk::domain::Triggers>(service_desk::app::TicketTx&)>
          work) override {
    return Run<service_desk::domain::Triggers>(meta, work);
  }
  absl::StatusOr<service_desk::app::AgentState> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<absl::StatusOr<service_desk::app::AgentState>(service_desk::app::TicketTx&)>
          work) override {
    return Run<service_desk::app::AgentState>(meta, work);
  }
  absl::StatusOr<service_desk::app::AgentState> GetAgent(const std::string& tenant,
                                                         const std::string& id) override {
    const State s = state();
    const auto t = s.agents.find(tenant);
    if (t == s.agents.end() || t->second.count(id) == 0) {
      return crm::common::NotFound("AGENT_NOT_FOUND", "no agent of this id");
    }
    return service_desk::app::AgentState{t->second.at(id), OpenOf(s, tenant, id)};
  }
  absl::StatusOr<std::vector<service_desk::app::AgentState>> ListAgents(
      const std::string& tenant) override {
    const State s = state();
    std::vector<service_desk::app::AgentState> out;
    const auto t = s.agents.find(tenant);
    if (t == s.agents.end()) return out;
    for (const auto& [id, a] : t->second) out.push_back({a, OpenOf(s, tenant, id)});
    return out;
  }
  absl::StatusOr<service_desk::domain::Macro> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<absl::StatusOr<service_desk::domain::Macro>(service_desk::app::TicketTx&)>
          work) override {
    return Run<service_desk::domain::Macro>(meta, work);
  }
  absl::StatusOr<service_desk::domain::SlaReport> SlaReportOf(
      const std::string& tenant, const service_desk::domain::SlaReportQuery& q) override {
    namespace d = service_desk::domain;
    const State s = state();
    std::vector<d::TicketOutcome> outcomes;
    const auto t = s.tickets.find(tenant);
    if (t == s.tickets.end()) return d::ReportOf(outcomes);
    const auto breached = [](const std::vector<std::string>& told, const std::string& metric) {
      return std::any_of(told.begin(), told.end(), [&](const std::string& k) {
        return k.rfind("breach/" + metric + "/", 0) == 0;
      });
    };
    for (const auto& [id, ticket] : t->second) {
      if (ticket.create_time < q.from || ticket.create_time >= q.to) continue;
      if (!q.queue.empty() && ticket.queue != q.queue) continue;
      d::TicketOutcome o;
      o.created = ticket.create_time;
      const auto rows = s.slas.find(tenant);
      if (rows != s.slas.end() && rows->second.count(id)) {
        const SlaRow& row = rows->second.at(id);
        o.under_sla = !row.policy.empty();
        o.first_reply_breached = breached(row.told, "first_reply");
        o.resolution_breached = breached(row.told, "resolution");
      }
      const auto messages = s.messages.find(id);
      if (messages != s.messages.end()) {
        for (const auto& m : messages->second) {
          if (m.kind == d::MessageKind::kPublicReply &&
              (!o.first_reply || m.create_time < *o.first_reply)) {
            o.first_reply = m.create_time;
          }
        }
      }
      if (ticket.status == d::TicketStatus::kSolved || ticket.status == d::TicketStatus::kClosed) {
        o.solved = ticket.solve_time;
      }
      outcomes.push_back(o);
    }
    return d::ReportOf(outcomes);
  }
  absl::StatusOr<service_desk::domain::Macro> GetMacro(const std::string& tenant,
                                                       const std::string& id) override {
    const State s = state();
    const auto t = s.macros.find(tenant);
    if (t == s.macros.end() || t->second.count(id) == 0) {
      return crm::common::NotFound("MACRO_NOT_FOUND", "no macro has this macro_id");
    }
    return t->second.at(id);
  }
  absl::StatusOr<std::vector<service_desk::domain::Macro>> ListMacros(
      const std::string& tenant) override {
    const State s = state();
    std::vector<service_desk::domain::Macro> out;
    const auto t = s.macros.find(tenant);
    if (t != s.macros.end()) {
      for (const auto& [id, m] : t->second) out.push_back(m);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return std::tie(a.name, a.id) < std::tie(b.name, b.id);
    });
    return out;
  }
  absl::StatusOr<std::vector<service_desk::domain::Classifier>> GetClassifiers(
      const std::string& tenant) override {
    const State s = state();
    std::vector<service_desk::domain::Classifier> out;
    if (const auto t = s.classifiers.find(tenant); t != s.classifiers.end()) {
      for (const auto& [target, c] : t->second) out.push_back(c.first);
    }
    return out;
  }
  absl::StatusOr<std::optional<std::string>> ClassifierModel(
      const std::string& tenant, service_desk::domain::ClassifierTarget target,
      int64_t version) override {
    const State s = state();
    const auto t = s.classifiers.find(tenant);
    if (t == s.classifiers.end()) return std::optional<std::string>();
    const auto c = t->second.find(static_cast<int>(target));
    if (c == t->second.end() || c->second.first.version != version) {
      return std::optional<std::string>();
    }
    return std::optional<std::string>(c->second.second);
  }
  // Solved and closed tickets with the field set, newest first.
  absl::StatusOr<std::vector<service_desk::domain::LabelledText>> TrainingExamples(
      const std::string& tenant, service_desk::domain::ClassifierTarget target,
      int limit) override {
    const State s = state();
    std::vector<std::pair<absl::Time, service_desk::domain::LabelledText>> found;
    if (const auto t = s.tickets.find(tenant); t != s.tickets.end()) {
      for (const auto& [id, ticket] : t->second) {
        const std::string& label =
            target == service_desk::domain::ClassifierTarget::kQueue ? ticket.queue : ticket.type;
        if (label.empty() || (ticket.status != service_desk::domain::TicketStatus::kSolved &&
                              ticket.status != service_desk::domain::TicketStatus::kClosed)) {
          continue;
        }
        const auto m = s.messages.find(id);
        const std::string first =
            m == s.messages.end() || m->second.empty() ? "" : m->second.front().body;
        found.push_back(
            {ticket.create_time, {service_desk::domain::TicketText(ticket.subject, first), label}});
      }
    }
    std::stable_sort(found.begin(), found.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<service_desk::domain::LabelledText> out;
    for (auto& [at, e] : found) {
      if (static_cast<int>(out.size()) == limit) break;
      out.push_back(std::move(e));
    }
    return out;
  }
  absl::StatusOr<service_desk::domain::Classifier> PutClassifier(
      const std::string& tenant, const service_desk::domain::Classifier& c,
      const std::string& model) override {
    return uow_.WithMutable([&](State& s) {
      auto& slot = s.classifiers[tenant][static_cast<int>(c.target)];
      const int64_t version = slot.first.version + 1;
      slot = {c, model};
      slot.first.version = version;
      slot.first.update_time = c.train_time;
      return slot.first;
    });
  }
  absl::StatusOr<service_desk::domain::Classifier> SetClassifierMode(
      const std::string& tenant, service_desk::domain::ClassifierTarget target,
      service_desk::domain::ClassifierMode mode, absl::Time at) override {
    return uow_.WithMutable([&](State& s) -> absl::StatusOr<service_desk::domain::Classifier> {
      auto& of = s.classifiers[tenant];
      const auto c = of.find(static_cast<int>(target));
      if (c == of.end()) return NoClassifier();
      c->second.first.mode = mode;
      c->second.first.update_time = at;
      ++c->second.first.version;
      return c->second.first;
    });
  }
  absl::Status DeleteClassifier(const std::string& tenant,
                                service_desk::domain::ClassifierTarget target) override {
    return uow_.WithMutable([&](State& s) {
      return s.classifiers[tenant].erase(static_cast<int>(target)) > 0 ? absl::OkStatus()
                                                                       : NoClassifier();
    });
  }
  absl::StatusOr<std::vector<service_desk::domain::TicketPrediction>> TicketPredictions(
      const std::string& tenant, const std::string& ticket_id) override {
    const State s = state();
    const auto t = s.tickets.find(tenant);
    const auto p = s.predictions.find(ticket_id);
    if (t == s.tickets.end() || !t->second.count(ticket_id) || p == s.predictions.end()) {
      return std::vector<service_desk::domain::TicketPrediction>{};
    }
    return p->second;
  }
  // As the PostgreSQL queries (storage/pg_classifiers.cc) read them.
  absl::StatusOr<Corrections> ClassifierCorrections(const std::string& tenant,
                                                    service_desk::domain::ClassifierTarget target,
                                                    absl::Time since, int window) override {
    const State s = state();
    std::vector<std::pair<absl::Time, bool>> filled;  // creation, corrected
    const auto t = s.tickets.find(tenant);
    if (t == s.tickets.end()) return Corrections{};
    const std::string field = service_desk::domain::TargetName(target);
    for (const auto& [id, ticket] : t->second) {
      if (ticket.create_time < since || !s.predictions.count(id)) continue;
      for (const service_desk::domain::TicketPrediction& p : s.predictions.at(id)) {
        if (p.target != target || !p.applied) continue;
        bool corrected = false;
        if (s.changes.count(id)) {
          for (const service_desk::domain::TicketChange& c : s.changes.at(id)) {
            corrected |= c.field == field && c.old_value == p.label && c.time > ticket.create_time;
          }
        }
        filled.emplace_back(ticket.create_time, corrected);
      }
    }
    std::sort(filled.begin(), filled.end(),
              [](const auto& a, const auto& b) { return a.first > b.first; });
    Corrections out;
    for (size_t i = 0; i < filled.size() && i < static_cast<size_t>(window); ++i) {
      ++out.applied;
      if (filled[i].second) ++out.corrected;
    }
    return out;
  }
  absl::StatusOr<std::vector<service_desk::domain::AutoResponseCounts>> AutoResponseCounts(
      const std::string& tenant, absl::Time from, absl::Time to) override {
    const State s = state();
    std::map<std::string, service_desk::domain::AutoResponseCounts> by_label;
    const auto t = s.tickets.find(tenant);
    if (t == s.tickets.end()) return std::vector<service_desk::domain::AutoResponseCounts>{};
    for (const auto& [id, ticket] : t->second) {
      if (ticket.channel != service_desk::domain::Channel::kEmail || ticket.create_time < from ||
          ticket.create_time > to || !s.predictions.count(id)) {
        continue;
      }
      for (const service_desk::domain::TicketPrediction& p : s.predictions.at(id)) {
        if (p.target != service_desk::domain::ClassifierTarget::kIntent) continue;
        service_desk::domain::AutoResponseCounts& c = by_label[p.label];
        c.label = p.label;
        ++c.questions;
        if (p.answered) ++c.known;
        std::optional<absl::Time> answered;
        if (s.outbound.count(tenant)) {
          for (const service_desk::domain::OutboundMail& m : s.outbound.at(tenant)) {
            if (m.ticket_id == id && m.kind == service_desk::domain::OutboundKind::kAutoResponse &&
                (!answered || m.create_time < *answered)) {
              answered = m.create_time;
            }
          }
        }
        if (!answered) continue;
        ++c.auto_responded;
        if (s.messages.count(id)) {
          for (const service_desk::domain::TicketMessage& m : s.messages.at(id)) {
            if (m.kind == service_desk::domain::MessageKind::kCustomer &&
                m.create_time > *answered) {
              ++c.wrote_again;
              break;
            }
          }
        }
      }
    }
    std::vector<service_desk::domain::AutoResponseCounts> out;
    for (auto& [label, c] : by_label) out.push_back(std::move(c));
    return out;
  }
  absl::StatusOr<service_desk::domain::RoutingRules> GetRoutingRules(
      const std::string& tenant) override {
    const State s = state();
    auto it = s.routing.find(tenant);
    return it == s.routing.end() ? service_desk::domain::RoutingRules{} : it->second;
  }
  absl::StatusOr<service_desk::domain::Article> GetArticle(const std::string& tenant,
                                                           const std::string& id) override {
    const State s = state();
    const auto t = s.articles.find(tenant);
    if (t == s.articles.end() || t->second.count(id) == 0) {
      return common::NotFound("ARTICLE_NOT_FOUND", "no article has this article_id");
    }
    return t->second.at(id);
  }
  absl::StatusOr<service_desk::app::ArticlePage> ListArticles(
      const std::string& tenant, const service_desk::app::ArticleQuery& q) override {
    const State s = state();
    service_desk::app::ArticlePage page;
    const auto t = s.articles.find(tenant);
    if (t == s.articles.end()) return page;
    for (const auto& [id, a] : t->second) {
      if (id <= q.after_id || (!q.category.empty() && a.category != q.category) ||
          (!q.state.empty() && service_desk::domain::ArticleStateName(a.state) != q.state) ||
          (!q.locale.empty() && a.locale != q.locale)) {
        continue;
      }
      page.items.push_back(a);
      page.items.back().body.clear();
      if (static_cast<int>(page.items.size()) == q.limit) {
        page.next_after = id;
        break;
      }
    }
    return page;
  }
  absl::StatusOr<std::vector<service_desk::domain::Article>> ArticleVersions(
      const std::string& tenant, const std::string& id) override {
    const State s = state();
    const auto v = s.article_versions.find(tenant + "/" + id);
    if (v == s.article_versions.end() || v->second.empty()) {
      return common::NotFound("ARTICLE_NOT_FOUND", "no article has this article_id");
    }
    return std::vector<service_desk::domain::Article>(v->second.rbegin(), v->second.rend());
  }
  // Every term of the tsquery ("w & v:*") found in the text as a
  // substring, case-insensitively; the score: how many times. No stemming.
  static int Matches(const std::string& tsquery, std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    int n = 0;
    for (absl::string_view term : absl::StrSplit(tsquery, " & ")) {
      absl::ConsumeSuffix(&term, ":*");
      const std::string word(term);
      int seen = 0;
      for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
        ++seen;
      }
      if (seen == 0) return 0;
      n += seen;
    }
    return n;
  }
  absl::StatusOr<service_desk::app::SearchResult> Search(const std::string& tenant,
                                                         const service_desk::domain::SearchQuery& q,
                                                         const std::string& tsquery) override {
    const State s = state();
    service_desk::app::SearchResult out;
    if (q.scope != service_desk::domain::SearchScope::kTickets && s.articles.count(tenant)) {
      for (const auto& [id, a] : s.articles.at(tenant)) {
        if ((!q.state.empty() && service_desk::domain::ArticleStateName(a.state) != q.state) ||
            (!q.locale.empty() && a.locale != q.locale)) {
          continue;
        }
        if (int n = Matches(tsquery, a.title + " " + a.body); n > 0) {
          service_desk::domain::Article lite = a;
          lite.body.clear();
          out.articles.push_back({lite, static_cast<double>(n), a.title});
        }
      }
    }
    if (q.scope != service_desk::domain::SearchScope::kArticles && s.tickets.count(tenant)) {
      for (const auto& [id, t] : s.tickets.at(tenant)) {
        std::string text = t.subject;
        if (const auto ms = s.messages.find(id); ms != s.messages.end()) {
          for (const auto& m : ms->second) text += " " + m.body;
        }
        if (int n = Matches(tsquery, text); n > 0) {
          out.tickets.push_back(
              {id, t.number, t.subject, t.status, static_cast<double>(n), t.subject});
        }
      }
    }
    const auto by_score = [](const auto& x, const auto& y) { return x.score > y.score; };
    std::stable_sort(out.articles.begin(), out.articles.end(), by_score);
    std::stable_sort(out.tickets.begin(), out.tickets.end(), by_score);
    if (static_cast<int>(out.articles.size()) > q.limit) out.articles.resize(q.limit);
    if (static_cast<int>(out.tickets.size()) > q.limit) out.tickets.resize(q.limit);
    return out;
  }
  // Auto-suggest in memory: any term found (the tsquery's "w | v"), the
  // score how many times; a ticket's answer its last public reply.
  static int AnyMatches(const std::string& tsquery, const std::string& text) {
    int n = 0;
    for (absl::string_view term : absl::StrSplit(tsquery, " | "))
      n += Matches(std::string(term), text);
    return n;
  }
  absl::StatusOr<service_desk::app::Suggestions> Suggest(const std::string& tenant,
                                                         const std::string& tsquery,
                                                         int limit) override {
    const State s = state();
    service_desk::app::Suggestions out;
    if (const auto a = s.articles.find(tenant); a != s.articles.end()) {
      for (const auto& [id, article] : a->second) {
        if (int n = AnyMatches(tsquery, article.title + " " + article.body); n > 0) {
          service_desk::domain::Article lite = article;
          lite.body.clear();
          out.articles.push_back({lite, static_cast<double>(n), article.title});
        }
      }
    }
    if (const auto m = s.macros.find(tenant); m != s.macros.end()) {
      for (const auto& [id, macro] : m->second) {
        if (int n = AnyMatches(tsquery, macro.name + "\n" + macro.reply); n > 0) {
          out.macros.push_back({id, macro.name, static_cast<double>(n), macro.name});
        }
      }
    }
    if (const auto t = s.tickets.find(tenant); t != s.tickets.end()) {
      for (const auto& [id, ticket] : t->second) {
        const auto ms = s.messages.find(id);
        if (ms == s.messages.end()) continue;
        std::string text = ticket.subject;
        const service_desk::domain::TicketMessage* reply = nullptr;
        for (const auto& msg : ms->second) {
          text += " " + msg.body;
          if (msg.kind == service_desk::domain::MessageKind::kPublicReply) reply = &msg;
        }
        if (int n = AnyMatches(tsquery, text); n > 0 && reply != nullptr) {
          out.answers.push_back({id, ticket.number, ticket.subject, reply->id, reply->body,
                                 static_cast<double>(n), reply->body});
        }
      }
    }
    const auto by_score = [](const auto& x, const auto& y) { return x.score > y.score; };
    std::stable_sort(out.articles.begin(), out.articles.end(), by_score);
    std::stable_sort(out.macros.begin(), out.macros.end(), by_score);
    std::stable_sort(out.answers.begin(), out.answers.end(), by_score);
    if (static_cast<int>(out.articles.size()) > limit) out.articles.resize(limit);
    if (static_cast<int>(out.macros.size()) > limit) out.macros.resize(limit);
    if (static_cast<int>(out.answers.size()) > limit) out.answers.resize(limit);
    return out;
  }
  absl::StatusOr<service_desk::domain::SurveySettings> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<
          absl::StatusOr<service_desk::domain::SurveySettings>(service_desk::app::TicketTx&)>
          work) override {
    return Run<service_desk::domain::SurveySettings>(meta, work);
  }
  absl::StatusOr<std::vector<DueSurvey>> DueSurveys(absl::Time now, int limit) override {
    std::vector<std::pair<absl::Time, DueSurvey>> due;
    for (const auto& [tenant, by_id] : state().surveys) {
      for (const auto& [id, s] : by_id) {
        if (s.state == service_desk::domain::SurveyState::kScheduled && s.due_time <= now) {
          due.push_back({s.due_time, {tenant, id, s.ticket_id}});
        }
      }
    }
    std::stable_sort(due.begin(), due.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<DueSurvey> out;
    for (size_t i = 0; i < due.size() && static_cast<int>(i) < limit; ++i) {
      out.push_back(due[i].second);
    }
    return out;
  }
  absl::StatusOr<service_desk::domain::Attachment> Write(
      const outbox::WriteMeta& meta, const std::string&,
      absl::FunctionRef<
          absl::StatusOr<service_desk::domain::Attachment>(service_desk::app::TicketTx&)>
          work) override {
    return Run<service_desk::domain::Attachment>(meta, work);
  }
  absl::StatusOr<std::pair<service_desk::domain::Attachment, std::string>> AttachmentContent(
      const std::string& tenant, const std::string& ticket_id,
      const std::string& attachment_id) override {
    const State s = state();
    auto by_tenant = s.attachments.find(tenant);
    if (by_tenant != s.attachments.end()) {
      auto it = by_tenant->second.find(attachment_id);
      if (it != by_tenant->second.end() && it->second.ticket_id == ticket_id) {
        return std::make_pair(it->second,
                              s.attachment_bytes.at(tenant + "/" + it->second.sha256_hex));
      }
    }
    return crm::common::NotFound("ATTACHMENT_NOT_FOUND", "no such attachment of this ticket");
  }
  absl::StatusOr<service_desk::domain::SurveySettings> GetSurveySettings(
      const std::string& tenant) override {
    const State s = state();
    auto it = s.survey_settings.find(tenant);
    return it == s.survey_settings.end() ? service_desk::domain::SurveySettings{} : it->second;
  }
  // As the PostgreSQL query (storage/pg_surveys.cc) groups them.
  absl::StatusOr<std::vector<service_desk::domain::SurveyRow>> SurveyRows(const std::string& tenant,
                                                                          absl::Time from,
                                                                          absl::Time to) override {
    const State s = state();
    std::map<std::pair<std::string, std::string>, service_desk::domain::SurveyCounts> groups;
    const auto t = s.surveys.find(tenant);
    if (t == s.surveys.end()) return std::vector<service_desk::domain::SurveyRow>{};
    for (const auto& [id, survey] : t->second) {
      if (survey.kind != service_desk::domain::SurveyKind::kCsat ||
          survey.sent_time == absl::InfinitePast() || survey.sent_time < from ||
          survey.sent_time > to) {
        continue;
      }
      std::string intent;
      if (s.predictions.count(survey.ticket_id)) {
        intent = service_desk::domain::AnsweredLabel(
            s.predictions.at(survey.ticket_id), service_desk::domain::ClassifierTarget::kIntent);
      }
      // Answered by its intent's macro: an auto_response mail of the ticket.
      std::string answered_by = "agent";
      if (const auto mails = s.outbound.find(tenant); mails != s.outbound.end()) {
        for (const service_desk::domain::OutboundMail& m : mails->second) {
          if (m.ticket_id == survey.ticket_id &&
              m.kind == service_desk::domain::OutboundKind::kAutoResponse) {
            answered_by = "auto_response";
          }
        }
      }
      for (const auto& [dimension, value] :
           std::vector<std::pair<std::string, std::string>>{{"", ""},
                                                            {"agent", survey.agent},
                                                            {"channel", survey.channel},
                                                            {"queue", survey.queue},
                                                            {"intent", intent},
                                                            {"answered_by", answered_by}}) {
        service_desk::domain::SurveyCounts& c = groups[{dimension, value}];
        c.value = value;
        ++c.sent;
        if (survey.state == service_desk::domain::SurveyState::kAnswered) {
          ++c.answered;
          c.rating_sum += survey.rating;
          if (service_desk::domain::Satisfied(survey.rating)) ++c.satisfied;
        }
      }
    }
    std::vector<service_desk::domain::SurveyRow> out;
    for (const auto& [key, c] : groups) out.push_back({key.first, c});
    return out;
  }
  absl::StatusOr<std::vector<service_desk::domain::NpsCounts>> NpsRows(const std::string& tenant,
                                                                       absl::Time from,
                                                                       absl::Time to) override {
    const State s = state();
    std::map<std::string, service_desk::domain::NpsCounts> by_month;  // "" the total
    const auto t = s.surveys.find(tenant);
    if (t == s.surveys.end()) return std::vector<service_desk::domain::NpsCounts>{};
    for (const auto& [id, survey] : t->second) {
      if (survey.kind != service_desk::domain::SurveyKind::kNps ||
          survey.sent_time == absl::InfinitePast() || survey.sent_time < from ||
          survey.sent_time > to) {
        continue;
      }
      const bool answered = survey.state == service_desk::domain::SurveyState::kAnswered;
      std::vector<std::string> keys = {""};
      if (answered) {
        keys.push_back(absl::FormatTime("%Y-%m", survey.answer_time, absl::UTCTimeZone()));
      }
      for (const std::string& key : keys) {
        service_desk::domain::NpsCounts& c = by_month[key];
        c.month = key;
        ++c.sent;
        if (!answered) continue;
        ++c.answered;
        if (survey.rating >= 9) ++c.promoters;
        if (survey.rating <= 6) ++c.detractors;
      }
    }
    std::vector<service_desk::domain::NpsCounts> out;
    for (const auto& [month, c] : by_month) out.push_back(c);
    return out;
  }
  absl::StatusOr<service_desk::domain::Automations> GetAutomations(
      const std::string& tenant) override {
    const State s = state();
    auto it = s.automations.find(tenant);
    return it == s.automations.end() ? service_desk::domain::Automations{} : it->second;
  }
  absl::StatusOr<std::vector<service_desk::app::AutomatedTenant>> AutomatedTenants(
      const std::string& after_tenant, int limit) override {
    const State s = state();
    std::vector<service_desk::app::AutomatedTenant> out;
    for (const auto& [tenant, a] : s.automations) {
      if (tenant <= after_tenant || a.automations.empty()) continue;
      if (static_cast<int>(out.size()) >= limit) break;
      out.push_back({tenant, a});
    }
    return out;
  }
  absl::StatusOr<std::vector<service_desk::app::AutomationCandidate>> AutomationCandidates(
      const std::string& tenant, const service_desk::domain::Automation& a, absl::Time now,
      const std::string& after_ticket_id, int limit) override {
    const State s = state();
    std::vector<service_desk::app::AutomationCandidate> out;
    const auto t = s.tickets.find(tenant);
    if (t == s.tickets.end()) return out;
    for (const auto& [id, ticket] : t->second) {  // id order
      if (id <= after_ticket_id || ticket.status == service_desk::domain::TicketStatus::kClosed) {
        continue;
      }
      const absl::Time from = service_desk::domain::ClockOf(a.since, ticket);
      if (from == absl::InfinitePast() || from > now - absl::Hours(a.hours)) continue;
      const auto f = s.firings.find(tenant + "/" + id + "/" + a.id);
      const absl::Time last = f == s.firings.end() ? absl::InfinitePast() : f->second;
      if (last != absl::InfinitePast() && last >= from) continue;
      if (static_cast<int>(out.size()) >= limit) break;
      out.push_back({ticket, last});
    }
    return out;
  }
  absl::StatusOr<service_desk::domain::Triggers> GetTriggers(const std::string& tenant) override {
    const State s = state();
    auto it = s.triggers.find(tenant);
    return it == s.triggers.end() ? service_desk::domain::Triggers{} : it->second;
  }
  absl::StatusOr<service_desk::app::Mailbox> GetMailbox(const std::string& tenant,
                                                        const std::string& id) override {
    const State s = state();
    if (!MailboxOf(s, tenant, id)) return NoMailbox();
    return s.mailboxes.at(id);
  }
  absl::StatusOr<std::optional<service_desk::app::MailboxRoute>> RouteOf(
      const std::string& address) override {
    const State s = state();
    auto r = s.mailbox_routes.find(address);
    if (r == s.mailbox_routes.end()) return std::optional<service_desk::app::MailboxRoute>();
    return std::optional<service_desk::app::MailboxRoute>(
        service_desk::app::MailboxRoute{s.mailbox_tenants.at(r->second), r->second});
  }
  absl::StatusOr<std::vector<service_desk::app::Mailbox>> ListMailboxes(
      const std::string& tenant) override {
    const State s = state();
    std::vector<service_desk::app::Mailbox> out;
    for (const auto& [id, m] : s.mailboxes) {
      if (MailboxOf(s, tenant, id)) out.push_back(m);
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.address < b.address; });
    return out;
  }

  absl::StatusOr<bool> KeyUsed(const service_desk::app::Actor& actor) override {
    return uow_.KeyUsed(actor);
  }
  absl::StatusOr<int64_t> NextNumber(const std::string& tenant) override {
    return uow_.WithMutable([&](State& s) { return ++s.numbers[tenant]; });
  }
  absl::StatusOr<service_desk::domain::Ticket> GetTicket(const std::string& tenant,
                                                         const std::string& id) override {
    const State s = state();
    auto t = s.tickets.find(tenant);
    if (t == s.tickets.end() || !t->second.count(id)) return NotFound();
    return t->second.at(id);
  }
  absl::StatusOr<service_desk::app::TicketPage> ListTickets(
      const std::string& tenant, const service_desk::app::TicketQuery& q) override {
    service_desk::app::TicketPage page;
    const State s = state();
    auto all = s.tickets.find(tenant);
    if (all == s.tickets.end()) return page;
    std::vector<service_desk::domain::Ticket> v;
    for (const auto& [id, t] : all->second) {
      if (q.status && t.status != *q.status) continue;
      if (!q.queue.empty() && t.queue != q.queue) continue;
      if (!q.assignee.empty() && t.assignee != q.assignee) continue;
      if (!q.customer_id.empty() && t.customer_id != q.customer_id) continue;
      if (q.by_sla_due && !t.sla_due) continue;
      v.push_back(t);
    }
    std::sort(v.begin(), v.end(), [&](const auto& a, const auto& b) {
      if (q.by_sla_due && a.sla_due != b.sla_due) return *a.sla_due < *b.sla_due;
      return a.number > b.number;
    });
    page.items = std::move(v);
    return page;
  }
  absl::StatusOr<service_desk::app::MessagePage> ListMessages(const std::string& tenant,
                                                              const std::string& ticket_id,
                                                              const std::string&, int) override {
    if (!GetTicket(tenant, ticket_id).ok()) return NotFound();
    service_desk::app::MessagePage page;
    const State s = state();
    page.items = s.messages.at(ticket_id);
    // As the PostgreSQL read: each message's files in upload order.
    auto files = s.attachments.find(tenant);
    for (service_desk::domain::TicketMessage& m : page.items) {
      if (files == s.attachments.end()) break;
      for (const auto& [id, a] : files->second) {
        if (a.message_id == m.id) m.attachments.push_back(a);
      }
      std::stable_sort(m.attachments.begin(), m.attachments.end(),
                       [](const auto& a, const auto& b) { return a.create_time < b.create_time; });
    }
    return page;
  }
  absl::StatusOr<std::vector<service_desk::domain::TicketChange>> ListChanges(
      const std::string& tenant, const std::string& ticket_id) override {
    if (!GetTicket(tenant, ticket_id).ok()) return NotFound();
    const State s = state();
    auto it = s.changes.find(ticket_id);
    if (it == s.changes.end()) return std::vector<service_desk::domain::TicketChange>{};
    return it->second;
  }

  absl::StatusOr<service_desk::domain::SlaPolicies> GetSlaPolicies(
      const std::string& tenant) override {
    const State s = state();
    auto it = s.sla_policies.find(tenant);
    if (it == s.sla_policies.end()) return service_desk::domain::SlaPolicies{};
    return it->second;
  }
  absl::StatusOr<service_desk::app::SlaInputs> GetSlaInputs(const std::string& tenant,
                                                            const std::string& ticket_id) override {
    service_desk::app::SlaInputs in;
    CRM_ASSIGN_OR_RETURN(in.ticket, GetTicket(tenant, ticket_id));
    CRM_ASSIGN_OR_RETURN(in.changes, ListChanges(tenant, ticket_id));
    in.messages = state().messages.at(ticket_id);
    const State s = state();
    auto rows = s.slas.find(tenant);
    if (rows != s.slas.end() && rows->second.count(ticket_id)) {
      in.policy = rows->second.at(ticket_id).policy;
    }
    return in;
  }

  absl::StatusOr<std::vector<service_desk::app::SlaDue>> DueSlas(absl::Time now,
                                                                 int limit) override {
    std::vector<std::pair<absl::Time, service_desk::app::SlaDue>> due;
    for (const auto& [tenant, rows] : state().slas) {
      for (const auto& [id, row] : rows) {
        if (row.next_due && *row.next_due <= now) due.push_back({*row.next_due, {tenant, id}});
      }
    }
    std::stable_sort(due.begin(), due.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<service_desk::app::SlaDue> out;
    for (size_t i = 0; i < due.size() && static_cast<int>(i) < limit; ++i) {
      out.push_back(due[i].second);
    }
    return out;
  }
  absl::StatusOr<std::vector<service_desk::app::SlaRebase>> SlaRebases(int limit) override {
    std::vector<service_desk::app::SlaRebase> out;
    for (const auto& [tenant, r] : state().sla_rebases) {
      if (static_cast<int>(out.size()) < limit) out.push_back(r);
    }
    return out;
  }
  absl::StatusOr<std::vector<std::string>> StaleSlas(const std::string& tenant, int64_t version,
                                                     const std::string& after, int limit) override {
    std::vector<std::string> out;
    const State s = state();
    auto t = s.tickets.find(tenant);
    if (t == s.tickets.end()) return out;
    const auto rows = s.slas.find(tenant);
    for (const auto& [id, ticket] : t->second) {
      int64_t row_version = -1;
      if (rows != s.slas.end() && rows->second.count(id)) {
        row_version = rows->second.at(id).policy_version;
      }
      if (id > after && row_version < version && static_cast<int>(out.size()) < limit) {
        out.push_back(id);
      }
    }
    return out;
  }

  // As migration 003 leaves a tenant: no SLA records, a pass under its
  // policy's version.
  void ForgetSlaRecords(const std::string& tenant) {
    uow_.WithMutable([&](State& s) {
      s.slas.erase(tenant);
      const auto p = s.sla_policies.find(tenant);
      s.sla_rebases[tenant] = {tenant, p == s.sla_policies.end() ? 0 : p->second.version, ""};
      return 0;
    });
  }

  State state() const {
    return uow_.With([](const State& s) { return s; });
  }

 private:
  static absl::Status NotFound() {
    return common::NotFound("TICKET_NOT_FOUND", "no ticket has this ticket_id");
  }
  static absl::Status NoClassifier() {
    return common::NotFound("CLASSIFIER_NOT_FOUND", "the tenant has no classifier for this target");
  }
  static absl::Status NoMailbox() {
    return common::NotFound("MAILBOX_NOT_FOUND", "no mailbox has this mailbox_id");
  }
  static bool MailboxOf(const State& s, const std::string& tenant, const std::string& id) {
    auto t = s.mailbox_tenants.find(id);
    return t != s.mailbox_tenants.end() && (t->second.empty() || t->second == tenant);
  }

  class Tx final : public service_desk::app::TicketTx {
   public:
    Tx(State& s, std::string tenant) : s_(s), tenant_(std::move(tenant)) {}
    absl::StatusOr<service_desk::domain::Ticket> LoadTicket(const std::string& id) override {
      auto t = s_.tickets.find(tenant_);
      if (t == s_.tickets.end() || !t->second.count(id)) return NotFound();
      return t->second.at(id);
    }
    void SaveTicket(const service_desk::domain::Ticket& t, bool) override {
      s_.tickets[tenant_][t.id] = t;
    }
    void SavePredictions(const service_desk::domain::Ticket& t) override {
      if (!t.predictions.empty()) s_.predictions[t.id] = t.predictions;
    }
    void AppendMessage(const service_desk::domain::TicketMessage& m) override {
      s_.messages[m.ticket_id].push_back(m);
    }
    void AppendChanges(const std::string& ticket_id,
                       const std::vector<service_desk::domain::TicketChange>& changes) override {
      std::vector<service_desk::domain::TicketChange>& all = s_.changes[ticket_id];
      for (service_desk::domain::TicketChange c : changes) {
        c.seq = static_cast<int64_t>(all.size()) + 1;
        all.push_back(std::move(c));
      }
    }
    void EmitTicket(const char* type, const service_desk::domain::Ticket& t) override {
      s_.events.push_back({type, t.id, ""});
    }
    void EmitMessage(const service_desk::domain::TicketMessage&,
                     const service_desk::domain::Ticket& t) override {
      s_.events.push_back({"ticket.message_added", t.id, ""});
    }
    void EmitStatusChange(const service_desk::domain::Ticket& t,
                          service_desk::domain::TicketStatus) override {
      s_.events.push_back({"ticket.status_changed", t.id, ""});
    }
    absl::StatusOr<service_desk::domain::SlaPolicies> LoadSlaPolicies() override {
      auto it = s_.sla_policies.find(tenant_);
      if (it == s_.sla_policies.end()) return service_desk::domain::SlaPolicies{};
      return it->second;
    }
    void SaveSlaPolicies(const service_desk::domain::SlaPolicies& p) override {
      s_.sla_policies[tenant_] = p;
    }
    void EmitSlaPolicies(const service_desk::domain::SlaPolicies&) override {
      s_.events.push_back({"sla_policy.updated", "", ""});
    }
    void StartSlaRebase(int64_t version) override {
      s_.sla_rebases[tenant_] = {tenant_, version, ""};
    }
    absl::StatusOr<service_desk::domain::SlaPolicies> ShareSlaPolicies() override {
      return LoadSlaPolicies();
    }
    absl::StatusOr<std::vector<service_desk::app::SlaRecord>> LockSlas(
        const std::vector<std::string>& ids, bool, int limit) override {
      std::vector<service_desk::app::SlaRecord> out;
      std::vector<std::string> sorted = ids;
      std::sort(sorted.begin(), sorted.end());
      for (const std::string& id : sorted) {
        if (limit > 0 && static_cast<int>(out.size()) == limit) break;
        absl::StatusOr<service_desk::domain::Ticket> t = LoadTicket(id);
        if (!t.ok()) continue;
        service_desk::app::SlaRecord r;
        r.inputs.ticket = *t;
        r.inputs.changes = s_.changes[id];
        r.inputs.messages = s_.messages[id];
        const SlaRow row = s_.slas[tenant_].count(id) ? s_.slas[tenant_][id] : SlaRow{};
        r.policy_version = row.policy_version;
        r.next_due = row.next_due;
        r.told = row.told;
        r.inputs.policy = row.policy;
        out.push_back(std::move(r));
      }
      return out;
    }
    void SaveSlas(const std::vector<service_desk::app::SlaRecord>& records, absl::Time) override {
      for (const service_desk::app::SlaRecord& r : records) {
        s_.slas[tenant_][r.inputs.ticket.id] = {r.policy_version, r.next_due, r.told,
                                                r.inputs.policy};
        s_.tickets[tenant_][r.inputs.ticket.id].sla_due = r.next_due;
      }
    }
    void EmitSlaNotice(const service_desk::domain::Ticket& t,
                       const service_desk::domain::SlaNotice& n, int64_t, absl::Time) override {
      s_.events.push_back({service_desk::domain::NoticeEventType(n.kind), t.id,
                           service_desk::domain::NoticeKey(n)});
    }
    absl::StatusOr<bool> ClaimSlaRebase(int64_t version, const std::string& after) override {
      auto it = s_.sla_rebases.find(tenant_);
      return it != s_.sla_rebases.end() && it->second.policy_version == version &&
             it->second.after_ticket_id == after;
    }
    void MoveSlaRebase(int64_t version, const std::string& after) override {
      auto it = s_.sla_rebases.find(tenant_);
      if (it != s_.sla_rebases.end() && it->second.policy_version == version) {
        it->second.after_ticket_id = after;
      }
    }
    void EndSlaRebase(int64_t version) override {
      auto it = s_.sla_rebases.find(tenant_);
      if (it != s_.sla_rebases.end() && it->second.policy_version == version) {
        s_.sla_rebases.erase(it);
      }
    }

    void StoreAttachment(const service_desk::domain::Attachment& a,
                         const std::string& content) override {
      s_.attachments[tenant_][a.id] = a;
      s_.attachment_bytes.emplace(tenant_ + "/" + a.sha256_hex, content);
    }
    absl::StatusOr<std::optional<service_desk::domain::Attachment>> PendingAttachment(
        const std::string& ticket_id, const std::string& sha256,
        const std::string& filename) override {
      for (const auto& [id, a] : s_.attachments[tenant_]) {
        if (a.ticket_id == ticket_id && a.message_id.empty() && a.sha256_hex == sha256 &&
            a.filename == filename) {
          return a;
        }
      }
      return std::nullopt;
    }
    absl::StatusOr<std::vector<service_desk::domain::Attachment>> BindAttachments(
        const std::string& ticket_id, const std::string& message_id,
        const std::vector<std::string>& ids) override {
      std::vector<service_desk::domain::Attachment> out;
      for (const std::string& id : ids) {
        auto& files = s_.attachments[tenant_];
        auto it = files.find(id);
        if (it == files.end() || it->second.ticket_id != ticket_id ||
            !it->second.message_id.empty()) {
          return crm::common::WithField(
              crm::common::NotFound("ATTACHMENT_NOT_FOUND", "no such upload of this ticket"),
              "attachment_ids");
        }
        it->second.message_id = message_id;
        out.push_back(it->second);
      }
      return out;
    }
    absl::StatusOr<int> MoveMessages(const std::string& from, const std::string& to,
                                     const std::vector<std::string>& ids) override {
      const auto moves = [&](const std::string& message_id) {
        return ids.empty() || std::find(ids.begin(), ids.end(), message_id) != ids.end();
      };
      std::vector<service_desk::domain::TicketMessage>& source = s_.messages[from];
      std::vector<service_desk::domain::TicketMessage> stay;
      std::vector<std::string> moved;
      for (service_desk::domain::TicketMessage& m : source) {
        if (!moves(m.id)) {
          stay.push_back(std::move(m));
          continue;
        }
        moved.push_back(m.id);
        m.ticket_id = to;
        s_.messages[to].push_back(std::move(m));
      }
      s_.messages[from] = std::move(stay);
      const auto was_moved = [&](const std::string& message_id) {
        return std::find(moved.begin(), moved.end(), message_id) != moved.end();
      };
      for (auto& [id, a] : s_.attachments[tenant_]) {
        if (a.ticket_id == from && (ids.empty() || was_moved(a.message_id))) a.ticket_id = to;
      }
      for (service_desk::app::MailRecord& r : s_.mails[tenant_]) {
        if (r.ticket_id == from && (ids.empty() || was_moved(r.ticket_message_id))) {
          r.ticket_id = to;
        }
      }
      return static_cast<int>(moved.size());
    }
    void CopyParticipants(const std::string& from, const std::string& to) override {
      const std::set<std::string> from_addrs = s_.participants[from];
      s_.participants[to].insert(from_addrs.begin(), from_addrs.end());
    }
    void RecordMail(const service_desk::app::MailRecord& r) override {
      s_.mails[tenant_].push_back(r);
    }
    absl::StatusOr<bool> MailSeen(const std::string& mailbox_id,
                                  const std::string& mail_id) override {
      for (const service_desk::app::MailRecord& r : s_.mails[tenant_]) {
        if (!r.outbound && r.mailbox_id == mailbox_id && r.mail_id == mail_id) return true;
      }
      return false;
    }
    void AddParticipants(const std::string& ticket_id,
                         const std::vector<std::string>& addrs) override {
      s_.participants[ticket_id].insert(addrs.begin(), addrs.end());
    }
    absl::StatusOr<std::optional<service_desk::app::Mailbox>> TicketMailbox(
        const std::string& ticket_id) override {
      for (const service_desk::app::MailRecord& r : s_.mails[tenant_]) {
        if (r.ticket_id == ticket_id && !r.outbound && s_.mailboxes.count(r.mailbox_id)) {
          return std::optional<service_desk::app::Mailbox>(s_.mailboxes.at(r.mailbox_id));
        }
      }
      return std::optional<service_desk::app::Mailbox>();
    }

    absl::StatusOr<std::vector<service_desk::app::MailRecord>> TicketMails(
        const std::string& ticket_id) override {
      std::vector<service_desk::app::MailRecord> out;
      for (const service_desk::app::MailRecord& r : s_.mails[tenant_]) {
        if (r.ticket_id == ticket_id) out.push_back(r);
      }
      std::stable_sort(out.begin(), out.end(),
                       [](const auto& a, const auto& b) { return a.time < b.time; });
      if (out.size() > service_desk::app::kMaxTrail) {
        out.erase(out.begin(), out.end() - service_desk::app::kMaxTrail);
      }
      return out;
    }
    void QueueMail(const service_desk::domain::OutboundMail& m,
                   const service_desk::domain::Ticket& t) override {
      s_.outbound[tenant_].push_back(m);
      s_.events.push_back({"ticket.mail_queued", t.id, ""});
    }
    absl::StatusOr<bool> TakeAutoReplySlot(const std::string& mailbox_id, const std::string& addr,
                                           absl::Time now) override {
      const std::string key = absl::StrCat(tenant_, "/", mailbox_id, "/", addr);
      auto it = s_.auto_replies.find(key);
      if (it != s_.auto_replies.end() &&
          it->second > now - service_desk::domain::kAutoReplyInterval) {
        return false;
      }
      s_.auto_replies[key] = now;
      return true;
    }
    absl::StatusOr<int> CountMailsFrom(const std::string& mailbox_id, const std::string& addr,
                                       const std::string& thread_subject,
                                       absl::Time since) override {
      int n = 0;
      for (const service_desk::app::MailRecord& r : s_.mails[tenant_]) {
        if (!r.outbound && r.mailbox_id == mailbox_id && r.from_addr == addr &&
            r.thread_subject == thread_subject && r.time >= since) {
          ++n;
        }
      }
      return n;
    }
    void Quarantine(const std::string& mailbox_id, const std::string& addr,
                    absl::Time until) override {
      absl::Time& t = s_.quarantine[absl::StrCat(tenant_, "/", mailbox_id, "/", addr)];
      t = std::max(t, until);
    }

    absl::StatusOr<service_desk::app::Mailbox> LoadMailbox(const std::string& id) override {
      if (!MailboxOf(s_, tenant_, id)) return NoMailbox();
      return s_.mailboxes.at(id);
    }
    absl::StatusOr<bool> ClaimMailboxAddress(const service_desk::app::Mailbox& m) override {
      return s_.mailbox_routes.emplace(m.address, m.id).second;
    }
    void SaveMailbox(const service_desk::app::Mailbox& m, bool) override {
      s_.mailboxes[m.id] = m;
      s_.mailbox_tenants[m.id] = tenant_;
    }
    absl::StatusOr<service_desk::domain::RoutingRules> LoadRoutingRules() override {
      auto it = s_.routing.find(tenant_);
      return it == s_.routing.end() ? service_desk::domain::RoutingRules{} : it->second;
    }
    void SaveRoutingRules(const service_desk::domain::RoutingRules& r) override {
      s_.routing[tenant_] = r;
    }
    absl::StatusOr<service_desk::domain::Triggers> LoadTriggers() override {
      auto it = s_.triggers.find(tenant_);
      return it == s_.triggers.end() ? service_desk::domain::Triggers{} : it->second;
    }
    void SaveTriggers(const service_desk::domain::Triggers& t) override {
      s_.triggers[tenant_] = t;
    }
    absl::StatusOr<std::optional<service_desk::domain::Article>> LoadArticle(
        const std::string& id) override {
      const auto t = s_.articles.find(tenant_);
      if (t == s_.articles.end() || t->second.count(id) == 0) {
        return std::optional<service_desk::domain::Article>();
      }
      return std::optional<service_desk::domain::Article>(t->second.at(id));
    }
    void SaveArticle(const service_desk::domain::Article& a, bool) override {
      s_.articles[tenant_][a.id] = a;
      s_.article_versions[tenant_ + "/" + a.id].push_back(a);
    }
    void DeleteArticle(const std::string& id) override {
      s_.articles[tenant_].erase(id);
      s_.article_versions.erase(tenant_ + "/" + id);
    }
    absl::StatusOr<int> CountArticles() override {
      return static_cast<int>(s_.articles[tenant_].size());
    }
    absl::StatusOr<service_desk::domain::Automations> LoadAutomations() override {
      auto it = s_.automations.find(tenant_);
      return it == s_.automations.end() ? service_desk::domain::Automations{} : it->second;
    }
    void SaveAutomations(const service_desk::domain::Automations& a) override {
      s_.automations[tenant_] = a;
    }
    absl::StatusOr<service_desk::domain::SurveySettings> LoadSurveySettings() override {
      auto it = s_.survey_settings.find(tenant_);
      return it == s_.survey_settings.end() ? service_desk::domain::SurveySettings{} : it->second;
    }
    void SaveSurveySettings(const service_desk::domain::SurveySettings& s) override {
      s_.survey_settings[tenant_] = s;
    }
    absl::StatusOr<service_desk::domain::SurveySettings> ReadSurveySettings() override {
      return LoadSurveySettings();
    }
    void ScheduleSurvey(const service_desk::domain::Survey& s) override {
      for (auto& [id, existing] : s_.surveys[tenant_]) {
        if (existing.ticket_id != s.ticket_id || existing.kind != s.kind) continue;
        if (existing.state == service_desk::domain::SurveyState::kScheduled) {
          existing.due_time = s.due_time;
        }
        return;
      }
      s_.surveys[tenant_][s.id] = s;
    }
    absl::StatusOr<std::optional<service_desk::domain::Survey>> LockSurvey(
        const std::string& id) override {
      const auto it = s_.surveys[tenant_].find(id);
      if (it == s_.surveys[tenant_].end()) return std::optional<service_desk::domain::Survey>();
      return std::optional<service_desk::domain::Survey>(it->second);
    }
    void SaveSurvey(const service_desk::domain::Survey& s) override {
      s_.surveys[tenant_][s.id] = s;
    }
    absl::StatusOr<bool> SurveyedSince(const std::string& customer_id, absl::Time since) override {
      for (const auto& [id, s] : s_.surveys[tenant_]) {
        if (s.customer_id == customer_id && s.sent_time != absl::InfinitePast() &&
            s.sent_time >= since) {
          return true;
        }
      }
      return false;
    }
    absl::StatusOr<std::vector<std::string>> ActiveTicketsOf(const std::string& agent_id,
                                                             int limit) override {
      std::vector<std::pair<absl::Time, std::string>> found;
      for (const auto& [id, t] : s_.tickets[tenant_]) {
        if (t.assignee == agent_id && (t.status == service_desk::domain::TicketStatus::kNew ||
                                       t.status == service_desk::domain::TicketStatus::kOpen)) {
          found.emplace_back(t.create_time, id);
        }
      }
      std::sort(found.begin(), found.end());
      std::vector<std::string> out;
      for (size_t i = 0; i < found.size() && static_cast<int>(i) < limit; ++i) {
        out.push_back(found[i].second);
      }
      return out;
    }
    absl::StatusOr<bool> NpsAskedSince(const std::string& customer_id, absl::Time since) override {
      for (const auto& [id, s] : s_.surveys[tenant_]) {
        if (s.customer_id == customer_id && s.kind == service_desk::domain::SurveyKind::kNps &&
            s.state != service_desk::domain::SurveyState::kCancelled && s.due_time >= since) {
          return true;
        }
      }
      return false;
    }
    absl::StatusOr<std::optional<service_desk::app::Mailbox>> FirstMailbox() override {
      for (const auto& [id, m] : s_.mailboxes) {
        const auto owner = s_.mailbox_tenants.find(id);
        if (owner == s_.mailbox_tenants.end() || owner->second.empty() ||
            owner->second == tenant_) {
          return std::optional<service_desk::app::Mailbox>(m);
        }
      }
      return std::optional<service_desk::app::Mailbox>();
    }
    void EmitSurveyAnswered(const service_desk::domain::Survey& s,
                            const service_desk::domain::Ticket& t) override {
      s_.events.push_back({"ticket.survey_answered", t.id, std::to_string(s.rating)});
    }
    absl::StatusOr<absl::Time> LastFired(const std::string& ticket_id,
                                         const std::string& automation_id) override {
      const auto f = s_.firings.find(tenant_ + "/" + ticket_id + "/" + automation_id);
      return f == s_.firings.end() ? absl::InfinitePast() : f->second;
    }
    void RecordFiring(const std::string& ticket_id, const std::string& automation_id,
                      absl::Time at) override {
      s_.firings[tenant_ + "/" + ticket_id + "/" + automation_id] = at;
    }
    absl::StatusOr<service_desk::domain::Triggers> ReadTriggers() override {
      return LoadTriggers();
    }
    absl::StatusOr<std::optional<service_desk::domain::Agent>> LoadAgent(
        const std::string& id) override {
      const auto t = s_.agents.find(tenant_);
      if (t == s_.agents.end() || t->second.count(id) == 0) {
        return std::optional<service_desk::domain::Agent>();
      }
      return std::optional<service_desk::domain::Agent>(t->second.at(id));
    }
    void SaveAgent(const service_desk::domain::Agent& a) override { s_.agents[tenant_][a.id] = a; }
    absl::StatusOr<std::vector<service_desk::domain::Agent>> AssignableAgents() override {
      std::vector<service_desk::domain::Agent> out;
      for (const auto& [id, a] : s_.agents[tenant_]) out.push_back(a);
      return out;
    }
    absl::StatusOr<std::map<std::string, int>> OpenTickets(
        const std::vector<std::string>& ids) override {
      std::map<std::string, int> out;
      for (const std::string& id : ids) {
        if (int n = OpenOf(s_, tenant_, id); n > 0) out[id] = n;
      }
      return out;
    }
    absl::StatusOr<std::optional<service_desk::domain::Macro>> LoadMacro(
        const std::string& id) override {
      const auto t = s_.macros.find(tenant_);
      if (t == s_.macros.end() || t->second.count(id) == 0) {
        return std::optional<service_desk::domain::Macro>();
      }
      return std::optional<service_desk::domain::Macro>(t->second.at(id));
    }
    void SaveMacro(const service_desk::domain::Macro& m, bool) override {
      s_.macros[tenant_][m.id] = m;
    }
    void DeleteMacro(const std::string& id) override { s_.macros[tenant_].erase(id); }
    // The bindings are the stored macros' intents (one write at a time).
    absl::StatusOr<std::optional<IntentBinding>> BoundIntent(const std::vector<std::string>& labels,
                                                             const std::string& macro_id) override {
      for (const std::string& label : labels) {
        for (const auto& [id, m] : s_.macros[tenant_]) {
          if (id != macro_id &&
              std::find(m.intents.begin(), m.intents.end(), label) != m.intents.end()) {
            return std::optional<IntentBinding>(IntentBinding{label, id});
          }
        }
      }
      return std::optional<IntentBinding>();
    }
    absl::StatusOr<std::optional<service_desk::domain::Macro>> MacroForIntent(
        const std::string& label) override {
      for (const auto& [id, m] : s_.macros[tenant_]) {
        if (std::find(m.intents.begin(), m.intents.end(), label) != m.intents.end()) {
          return std::optional<service_desk::domain::Macro>(m);
        }
      }
      return std::optional<service_desk::domain::Macro>();
    }
    absl::StatusOr<int> CountMacros() override {
      return static_cast<int>(s_.macros[tenant_].size());
    }
    // One write at a time: a claim is never held by another.
    absl::StatusOr<std::optional<std::pair<service_desk::domain::Agent, int>>> ClaimAgent(
        const std::string& id, bool) override {
      const auto it = s_.agents[tenant_].find(id);
      if (it == s_.agents[tenant_].end()) {
        return std::optional<std::pair<service_desk::domain::Agent, int>>();
      }
      return std::optional<std::pair<service_desk::domain::Agent, int>>(std::in_place, it->second,
                                                                        OpenOf(s_, tenant_, id));
    }
    void ReleaseClaim() override {}
    void RecordAssignment(const std::string& agent_id, absl::Time at) override {
      s_.agents[tenant_][agent_id].last_assigned = at;
    }

   private:
    State& s_;
    std::string tenant_;
  };

  template <typename T>
  absl::StatusOr<T> Run(const outbox::WriteMeta& meta,
                        absl::FunctionRef<absl::StatusOr<T>(service_desk::app::TicketTx&)> work) {
    return uow_.Write<T>(meta, [&](State& s) -> absl::StatusOr<T> {
      Tx tx(s, meta.tenant_id);
      return work(tx);
    });
  }

  FakeUnitOfWork<State> uow_;
};

// Customers by id per tenant; an unknown email becomes a new customer once
// per key (as customer-store's ResolveCustomerRefs with create_missing).
class FakeRequesterDirectory final : public service_desk::app::CustomerDirectory {
 public:
  absl::StatusOr<std::string> Resolve(const std::string& tenant,
                                      const service_desk::app::Requester& who,
                                      const std::string& key) override {
    ++calls;
    if (!available) {
      return common::WithReason(absl::UnavailableError("customer-store is down"),
                                "CUSTOMER_STORE_UNAVAILABLE");
    }
    if (!who.customer_id.empty()) {
      if (!customers[tenant].count(who.customer_id)) {
        return common::WithField(
            common::WithReason(absl::FailedPreconditionError("no customer"), "CUSTOMER_NOT_FOUND"),
            "customer_id");
      }
      return who.customer_id;
    }
    auto by_email = emails[tenant].find(who.email);
    if (by_email != emails[tenant].end()) return by_email->second;
    const std::string n = std::to_string(next);
    std::string id = absl::StrCat("00000000-0000-4000-8000-", std::string(12 - n.size(), '0'), n);
    ++next;
    emails[tenant][who.email] = id;
    customers[tenant][id] = who.name;
    keys.push_back(key);
    return id;
  }

  bool available = true;
  int calls = 0;
  int next = 1;
  std::map<std::string, std::map<std::string, std::string>> customers;  // tenant → id → name
  std::map<std::string, std::map<std::string, std::string>> emails;     // tenant → email → id
  std::vector<std::string> keys;
};

}  // namespace crm::testing
