#include "tests/support/fakes/transaction/fake_order_repository.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/errors.h"

namespace crm::testing {

namespace app = transaction::app;
namespace domain = transaction::domain;
using domain::Order;

namespace {

absl::Status OrderNotFound() { return common::NotFound("ORDER_NOT_FOUND", "order not found"); }

// The deterministic refusals a strict (fingerprinted) key remembers.
bool Replayable(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kOutOfRange:
      return common::ReasonOf(s) != "IDEMPOTENCY_KEY_REUSED";
    default:
      return false;
  }
}

// (placed_time, id) descending, as the listing orders them.
bool Newer(const Order& a, const Order& b) {
  if (a.placed_time != b.placed_time) return a.placed_time > b.placed_time;
  return a.id > b.id;
}

}  // namespace

absl::Status FakeOrderRepository::Enter(const char* method) {
  ++calls_;
  last_method_ = method;
  if (fail_) return *fail_;
  return absl::OkStatus();
}

void FakeOrderRepository::AddSku(const std::string& tenant, const std::string& sku) {
  absl::MutexLock lock(&mu_);
  tenants_[tenant].skus.insert(sku);
}

void FakeOrderRepository::FailWith(std::optional<absl::Status> s) {
  absl::MutexLock lock(&mu_);
  fail_ = std::move(s);
}

int FakeOrderRepository::calls() const {
  absl::MutexLock lock(&mu_);
  return calls_;
}
int FakeOrderRepository::writes() const {
  absl::MutexLock lock(&mu_);
  return writes_;
}
std::string FakeOrderRepository::last_method() const {
  absl::MutexLock lock(&mu_);
  return last_method_;
}
std::optional<Order> FakeOrderRepository::last_insert() const {
  absl::MutexLock lock(&mu_);
  return last_insert_;
}
std::optional<absl::Time> FakeOrderRepository::last_now() const {
  absl::MutexLock lock(&mu_);
  return last_now_;
}
app::OrderQuery FakeOrderRepository::last_query() const {
  absl::MutexLock lock(&mu_);
  return last_query_;
}
std::vector<std::string> FakeOrderRepository::events() const {
  absl::MutexLock lock(&mu_);
  return events_;
}

std::optional<absl::StatusOr<Order>> FakeOrderRepository::Replay(TenantData& t,
                                                                 const app::Actor& actor) {
  if (actor.idempotency_key.empty()) return std::nullopt;
  auto it = t.answers.find(actor.idempotency_key);
  if (it == t.answers.end()) return std::nullopt;
  const Answer& a = it->second;
  if (a.method != actor.method) {
    return absl::StatusOr<Order>(common::WithField(
        common::WithReason(
            absl::InvalidArgumentError("request_id was already used for a different call"),
            "INVALID_FIELD"),
        "request_id"));
  }
  if (a.fingerprint != actor.fingerprint) {
    return absl::StatusOr<Order>(common::WithField(
        common::WithReason(absl::InvalidArgumentError(
                               "request_id was already used with a different request body"),
                           "IDEMPOTENCY_KEY_REUSED"),
        "request_id"));
  }
  if (!a.error.ok()) return absl::StatusOr<Order>(a.error);
  return absl::StatusOr<Order>(a.order);
}

void FakeOrderRepository::Remember(TenantData& t, const app::Actor& actor,
                                   const absl::StatusOr<Order>& answer) {
  if (actor.idempotency_key.empty()) return;
  if (!answer.ok() && (actor.fingerprint.empty() || !Replayable(answer.status()))) return;
  Answer a;
  a.method = actor.method;
  a.fingerprint = actor.fingerprint;
  if (answer.ok()) {
    a.order = *answer;
  } else {
    a.error = answer.status();
  }
  t.answers.emplace(actor.idempotency_key, std::move(a));
}

absl::StatusOr<Order> FakeOrderRepository::Insert(const app::Actor& actor, const Order& o) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("Insert"); !s.ok()) return s;
  last_insert_ = o;
  TenantData& t = tenants_[actor.tenant_id];
  if (auto replay = Replay(t, actor)) return *replay;
  absl::StatusOr<Order> answer = o;
  for (size_t i = 0; i < o.lines.size(); ++i) {
    if (!t.skus.count(o.lines[i].sku)) {
      answer = common::WithField(
          common::WithReason(absl::InvalidArgumentError(absl::StrCat(
                                 "lines[", i, "].sku \"", o.lines[i].sku,
                                 "\" is not in the catalog; create the product first")),
                             "UNKNOWN_SKU"),
          absl::StrCat("lines[", i, "].sku"));
      break;
    }
  }
  if (answer.ok() && t.orders.count(o.id)) {
    answer = absl::AlreadyExistsError("order id already used");
  }
  if (answer.ok()) {
    t.orders[o.id] = o;
    ++writes_;
    events_.push_back(
        absl::StrCat(domain::StatusEventType(o.status), ":", o.id, ":", o.customer_id));
  }
  Remember(t, actor, answer);
  return answer;
}

absl::StatusOr<std::optional<Order>> FakeOrderRepository::FindReplay(const app::Actor& actor) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("FindReplay"); !s.ok()) return s;
  auto replay = Replay(tenants_[actor.tenant_id], actor);
  if (!replay) return std::optional<Order>();
  if (!replay->ok()) return replay->status();
  return std::optional<Order>(**replay);
}

absl::StatusOr<Order> FakeOrderRepository::Get(const std::string& tenant, const std::string& id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("Get"); !s.ok()) return s;
  auto t = tenants_.find(tenant);
  if (t == tenants_.end()) return OrderNotFound();
  auto it = t->second.orders.find(id);
  if (it == t->second.orders.end()) return OrderNotFound();
  return it->second;
}

absl::StatusOr<app::OrderPage> FakeOrderRepository::List(const std::string& tenant,
                                                         const app::OrderQuery& q) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("List"); !s.ok()) return s;
  last_query_ = q;
  std::optional<Order> before;  // only placed_time and id are used
  if (!q.before_cursor.empty()) {
    std::vector<std::string> parts = absl::StrSplit(q.before_cursor, '|');
    int64_t micros = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &micros)) {
      return common::WithReason(absl::InvalidArgumentError("page_token is invalid"),
                                "INVALID_PAGE_TOKEN");
    }
    before = Order{};
    before->placed_time = absl::FromUnixMicros(micros);
    before->id = parts[1];
  }
  std::vector<Order> all;
  auto t = tenants_.find(tenant);
  if (t != tenants_.end()) {
    for (const auto& [id, o] : t->second.orders) {
      if (!q.customer_id.empty() && o.customer_id != q.customer_id) continue;
      if (q.status != domain::OrderStatus::kUnspecified && o.status != q.status) continue;
      if (before && !Newer(*before, o)) continue;
      all.push_back(o);
    }
  }
  std::sort(all.begin(), all.end(), Newer);
  app::OrderPage page;
  for (const auto& o : all) {
    if (static_cast<int>(page.items.size()) == q.limit) break;
    page.items.push_back(o);
  }
  if (static_cast<int>(all.size()) > q.limit && !page.items.empty()) {
    const Order& last = page.items.back();
    page.next_cursor = absl::StrCat(absl::ToUnixMicros(last.placed_time), "|", last.id);
  }
  return page;
}

absl::StatusOr<Order> FakeOrderRepository::Transition(const app::Actor& actor,
                                                      const std::string& id,
                                                      domain::OrderStatus to, absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("Transition"); !s.ok()) return s;
  last_now_ = now;
  TenantData& t = tenants_[actor.tenant_id];
  if (auto replay = Replay(t, actor)) return *replay;
  absl::StatusOr<Order> answer = OrderNotFound();
  auto it = t.orders.find(id);
  if (it != t.orders.end()) {
    absl::Status s = domain::ApplyTransition(it->second, to, now);
    if (s.ok()) {
      ++writes_;
      events_.push_back(
          absl::StrCat(domain::StatusEventType(to), ":", id, ":", it->second.customer_id));
      answer = it->second;
    } else {
      answer = s;
    }
  }
  Remember(t, actor, answer);
  return answer;
}

}  // namespace crm::testing
