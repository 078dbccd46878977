#include "services/personalization/app/recommender.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"

namespace crm::personalization::app {
namespace {

constexpr std::uint8_t kTagBought = 1;
constexpr std::uint8_t kTagViewed = 2;

std::int64_t UnixSeconds(absl::Time t) {
  return t == absl::InfinitePast() ? 0 : absl::ToUnixSeconds(t);
}

// A category path under a prefix of whole segments.
bool UnderPrefix(const std::string& path, const std::string& prefix) {
  if (prefix.empty()) return true;
  if (path.size() < prefix.size() || path.compare(0, prefix.size(), prefix) != 0) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

// The signal of a tracked behaviour event type, if it says something about
// a product.
std::optional<domain::Signal> SignalOf(const std::string& type) {
  if (type == "product.viewed") return domain::Signal::kView;
  if (type == "cart.item_added") return domain::Signal::kCart;
  return std::nullopt;
}

}  // namespace

struct Recommender::Tenant {
  mutable std::shared_mutex mu;
  absl::flat_hash_map<std::string, domain::UserIndex> users;
  absl::flat_hash_map<std::string, domain::ItemIndex> items;
  std::vector<std::string> skus;      // by item index
  std::vector<ProductRow> products;   // by item index; version 0: not in the catalog events
  absl::flat_hash_set<std::string> known;
  // customer -> channel -> newest profiling status and its time
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, ProfilingConsentRow>> profiling;
  absl::flat_hash_map<std::string, ChosenTopics> chosen;  // by customer
  // Searched categories by user key (the products' categories are read
  // from the model's items when interests are asked for).
  absl::flat_hash_map<std::string, domain::InterestProfile> searched;
  std::int64_t half_life = 0;
  domain::CoOccurrenceModel model;
  // The most popular items (unfiltered), recomputed after the counts change.
  mutable absl::Mutex popular_mu;
  mutable std::vector<domain::ScoredItem> popular ABSL_GUARDED_BY(popular_mu);
  mutable bool popular_stale ABSL_GUARDED_BY(popular_mu) = true;

  Tenant(domain::SimilarityParams p, std::int64_t half_life_seconds)
      : half_life(half_life_seconds), model(p, half_life_seconds) {}

  domain::ItemIndex Item(const std::string& sku) {
    auto [it, fresh] = items.try_emplace(sku, static_cast<domain::ItemIndex>(skus.size()));
    if (fresh) {
      skus.push_back(sku);
      products.push_back(ProductRow{sku, "", true, 0});
    }
    return it->second;
  }
  domain::UserIndex User(const std::string& key) {
    return users.try_emplace(key, static_cast<domain::UserIndex>(users.size())).first->second;
  }
  bool Objected(const std::string& customer_id) const {
    auto it = profiling.find(customer_id);
    if (it == profiling.end()) return false;
    for (const auto& [channel, row] : it->second) {
      if (row.status == "opted_out") return true;
    }
    return false;
  }
  void Consent(const ProfilingConsentRow& c) {
    ProfilingConsentRow& kept = profiling[c.customer_id][c.channel];
    if (kept.time <= c.time) kept = c;
  }
  void Product(const ProductRow& p) {
    ProductRow& kept = products[Item(p.sku)];
    if (kept.version < p.version) kept = p;
  }
  void Choose(const ChosenTopics& c) {
    ChosenTopics& kept = chosen[c.customer_id];
    if (kept.version < c.version) kept = c;
  }
  // A user's history replaced by what is stored now (after a move).
  void ReplaceHistory(const UserHistory& h, const RecommenderSettings& s) {
    auto u = users.find(h.user_key);
    if (u != users.end()) model.RemoveUser(u->second);
    searched.erase(h.user_key);
    for (const InteractionRow& r : h.rows) Interaction(r, s);
    absl::MutexLock l(&popular_mu);
    popular_stale = true;
  }
  void MergedAway(const std::string& customer_id) {
    known.erase(customer_id);
    profiling.erase(customer_id);
    chosen.erase(customer_id);
  }
  void Erase(const std::string& customer_id) {
    known.erase(customer_id);
    profiling.erase(customer_id);
    chosen.erase(customer_id);
    searched.erase(customer_id);
    auto it = users.find(customer_id);
    if (it != users.end()) model.RemoveUser(it->second);
    absl::MutexLock l(&popular_mu);
    popular_stale = true;
  }
  void Interaction(const InteractionRow& r, const RecommenderSettings& s) {
    if (r.signal == domain::Signal::kSearch) {
      searched.try_emplace(r.user_key, half_life)
          .first->second.Add(r.topic, s.search_weight, UnixSeconds(r.time));
      return;
    }
    double w = s.view_weight;
    std::uint8_t tags = kTagViewed;
    if (r.signal == domain::Signal::kPurchase) {
      w = s.purchase_weight;
      tags = kTagBought;
    } else if (r.signal == domain::Signal::kCart) {
      w = s.cart_weight;
    }
    if (model.Add(User(r.user_key), Item(r.sku), w, UnixSeconds(r.time), tags)) {
      absl::MutexLock l(&popular_mu);
      popular_stale = true;
    }
  }
  bool Accept(domain::ItemIndex i, const std::string& prefix) const {
    const ProductRow& p = products[i];
    return p.active && UnderPrefix(p.category_path, prefix);
  }
  // The popular items `accept` takes, best first, at most `count`.
  std::vector<domain::ScoredItem> Popular(std::size_t count,
                                          const std::function<bool(domain::ItemIndex)>& accept)
      const {
    constexpr std::size_t kCached = 1000;
    absl::MutexLock l(&popular_mu);
    if (popular_stale) {
      popular = model.Popular(kCached, nullptr);
      popular_stale = false;
    }
    std::vector<domain::ScoredItem> out;
    for (const auto& p : popular) {
      if (out.size() >= count) return out;
      if (accept(p.item)) out.push_back(p);
    }
    if (popular.size() < kCached) return out;  // every item was in the cache
    return model.Popular(count, accept);        // a narrow filter: the whole catalog
  }
  Recommended Entry(const domain::ScoredItem& s, Reason reason) const {
    Recommended r;
    r.sku = skus[s.item];
    r.score = s.score;
    r.reason = reason;
    if (reason != Reason::kPopular && reason != Reason::kPopularInSegment) {
      r.because_sku = skus[s.because];
    }
    r.category_path = products[s.item].category_path;
    return r;
  }
};

Recommender::Recommender(PersonalizationRepository& repository, RecommenderSettings settings,
                         const common::Clock* clock)
    : repository_(repository), settings_(settings), clock_(clock ? *clock : system_clock_) {}

Recommender::~Recommender() = default;

Recommender::Tenant& Recommender::TenantFor(const std::string& tenant) {
  absl::MutexLock l(&mu_);
  auto& t = tenants_[tenant];
  if (!t) t = std::make_unique<Tenant>(settings_.similarity, settings_.half_life_seconds);
  return *t;
}

const Recommender::Tenant* Recommender::FindTenant(const std::string& tenant) const {
  absl::MutexLock l(&mu_);
  auto it = tenants_.find(tenant);
  return it == tenants_.end() ? nullptr : it->second.get();
}

absl::StatusOr<Recommender::LoadStats> Recommender::Rebuild() {
  struct Loader final : StoredRows {
    Recommender& r;
    absl::flat_hash_map<std::string, std::unique_ptr<Tenant>> fresh;
    explicit Loader(Recommender& rec) : r(rec) {}
    Tenant& T(const std::string& tenant) {
      auto& t = fresh[tenant];
      if (!t) t = std::make_unique<Tenant>(r.settings_.similarity, r.settings_.half_life_seconds);
      return *t;
    }
    void Product(const std::string& tenant, const ProductRow& p) override { T(tenant).Product(p); }
    void Customer(const std::string& tenant, const std::string& id) override {
      T(tenant).known.insert(id);
    }
    void Consent(const std::string& tenant, const ProfilingConsentRow& c) override {
      T(tenant).Consent(c);
    }
    void Chosen(const std::string& tenant, const ChosenTopics& c) override { T(tenant).Choose(c); }
    void Interaction(const std::string& tenant, const InteractionRow& row) override {
      T(tenant).Interaction(row, r.settings_);
      ++rows;
    }
    std::size_t rows = 0;
  } loader(*this);
  if (absl::Status s = repository_.Load(loader); !s.ok()) return s;
  LoadStats stats;
  stats.tenants = loader.fresh.size();
  stats.interactions = loader.rows;
  for (const auto& [id, t] : loader.fresh) {
    stats.users += t->users.size();
    stats.items += t->skus.size();
    stats.pairs += t->model.PairCount();
  }
  absl::MutexLock l(&mu_);
  tenants_ = std::move(loader.fresh);
  return stats;
}

std::vector<absl::Status> Recommender::Apply(const std::vector<Fact>& facts) {
  std::vector<absl::Status> out(facts.size());
  // Per tenant: its batch and, per row, the fact it came from.
  struct Pending {
    TenantBatch batch;
    std::vector<std::size_t> facts;
  };
  std::map<std::string, Pending> by_tenant;
  for (std::size_t i = 0; i < facts.size(); ++i) {
    std::visit(
        [&](const auto& f) {
          using T = std::decay_t<decltype(f)>;
          Pending& p = by_tenant[f.tenant_id];
          p.facts.push_back(i);
          TenantBatch& b = p.batch;
          if constexpr (std::is_same_v<T, events::OrderFact>) {
            if (f.customer_id.empty()) return;
            const std::string source = absl::StrCat("order:", f.order_id);
            if (f.status == "cancelled") {  // what was learnt of it is unlearnt
              b.unlearned.emplace_back(source, std::vector<std::string>{});
              return;
            }
            // A sku whose every line came back in full (one row per sku).
            absl::flat_hash_set<std::string> kept;
            std::vector<std::string> returned;
            for (const auto& line : f.lines) {
              if (line.quantity > 0 && line.returned_quantity < line.quantity)
                kept.insert(line.sku);
            }
            for (const auto& line : f.lines) {
              if (line.quantity > 0 && !kept.contains(line.sku) &&
                  std::find(returned.begin(), returned.end(), line.sku) == returned.end()) {
                returned.push_back(line.sku);
              }
            }
            if (!returned.empty()) b.unlearned.emplace_back(source, std::move(returned));
            for (const auto& line : f.lines) {
              if (line.quantity <= 0 || line.returned_quantity >= line.quantity) continue;
              b.interactions.push_back(InteractionRow{f.customer_id, line.sku, source,
                                                      domain::Signal::kPurchase, f.placed_time});
            }
          } else if constexpr (std::is_same_v<T, events::ProductFact>) {
            b.products.push_back(ProductRow{f.sku, absl::StrJoin(f.category_path, "/"), f.active,
                                            f.version, f.price_minor.value_or(-1), f.currency_code,
                                            f.cost_minor});
          } else if constexpr (std::is_same_v<T, events::BehaviourFact>) {
            std::string user = !f.customer_id.empty() ? f.customer_id
                               : !f.visitor_id.empty() ? VisitorKey(f.visitor_id)
                                                       : std::string();
            if (user.empty()) return;
            if (f.type == "search.performed") {  // of a category: its interest
              if (f.category_path.empty()) return;
              auto topic = domain::NormalizeTopic(absl::StrJoin(f.category_path, "/"));
              if (!topic.ok()) return;
              b.interactions.push_back(
                  InteractionRow{std::move(user), "", absl::StrCat("event:", f.event_id),
                                 domain::Signal::kSearch, f.occurred_time, *std::move(topic)});
              return;
            }
            auto signal = SignalOf(f.type);
            if (!signal || f.sku.empty()) return;
            b.interactions.push_back(InteractionRow{std::move(user), f.sku,
                                                    absl::StrCat("event:", f.event_id), *signal,
                                                    f.occurred_time});
          } else if constexpr (std::is_same_v<T, events::CustomerChange>) {
            using K = events::CustomerChange::Kind;
            if (f.kind == K::kCreated || f.kind == K::kUpdated) {
              b.known_customers.push_back(f.customer_id);
            } else if (f.kind == K::kMerged) {
              b.moves.push_back(HistoryMove{HistoryMove::Kind::kMerged, f.other_id, f.customer_id});
            } else if (f.kind == K::kUnmerged) {
              b.known_customers.push_back(f.other_id);
              b.moves.push_back(
                  HistoryMove{HistoryMove::Kind::kUnmerged, f.customer_id, f.other_id});
            } else if (f.kind == K::kErased) {
              if (f.erased_ids.empty()) {
                b.erased_customers.push_back(f.customer_id);
              } else {
                b.erased_customers.insert(b.erased_customers.end(), f.erased_ids.begin(),
                                          f.erased_ids.end());
              }
            }
          } else if constexpr (std::is_same_v<T, events::CustomerIdentified>) {
            if (f.visitor_id.empty() || f.customer_id.empty()) return;
            b.moves.push_back(
                HistoryMove{HistoryMove::Kind::kIdentified, f.visitor_id, f.customer_id});
          } else if constexpr (std::is_same_v<T, events::ConsentFact>) {
            if (f.purpose != "profiling") return;
            b.consents.push_back(
                ProfilingConsentRow{f.customer_id, f.channel, f.status, f.recorded_time});
          }
        },
        facts[i]);
  }
  for (auto& [tenant_id, pending] : by_tenant) {
    const TenantBatch& b = pending.batch;
    absl::StatusOr<StoredBatch> stored = repository_.Store(tenant_id, b);
    if (!stored.ok()) {
      for (std::size_t i : pending.facts) out[i] = stored.status();
      continue;
    }
    Tenant& t = TenantFor(tenant_id);
    std::unique_lock lock(t.mu);
    for (std::size_t k = 0; k < b.products.size(); ++k) {
      if (stored->newer_products[k]) t.Product(b.products[k]);
    }
    for (const std::string& id : b.known_customers) t.known.insert(id);
    for (std::size_t k = 0; k < b.consents.size(); ++k) {
      if (stored->newer_consents[k]) t.Consent(b.consents[k]);
    }
    for (std::size_t k = 0; k < b.interactions.size(); ++k) {
      if (!stored->new_interactions[k]) continue;
      InteractionRow row = b.interactions[k];
      row.user_key = stored->stored_users[k];  // a linked visitor's: the customer's
      t.Interaction(row, settings_);
    }
    for (const UserHistory& h : stored->moved) t.ReplaceHistory(h, settings_);
    for (const std::string& id : stored->merged_away) t.MergedAway(id);
    for (const std::string& id : b.erased_customers) t.Erase(id);
  }
  return out;
}

absl::StatusOr<RecommendationList> Recommender::ForUser(const Tenant* t,
                                                        const std::string& user_key,
                                                        bool objected,
                                                        const ListRequest& r) const {
  RecommendationList list;
  if (t == nullptr) {
    list.strategy = objected ? Strategy::kNotPersonalized : Strategy::kPopularFallback;
    return list;
  }
  std::shared_lock lock(t->mu);
  auto u = t->users.find(user_key);
  const bool has_history = u != t->users.end() && t->model.UserItemCount(u->second) > 0;
  std::vector<domain::ItemIndex> listed;
  if (!objected && has_history) {
    domain::RecommendOptions o;
    o.count = r.count;
    o.exclude_seen = !r.include_owned;
    o.accept = [&](domain::ItemIndex i) { return t->Accept(i, r.category_prefix); };
    for (const auto& s : t->model.Recommend(u->second, o)) {
      const bool bought = (t->model.Tags(u->second, s.because) & kTagBought) != 0;
      list.products.push_back(t->Entry(s, bought ? Reason::kBought : Reason::kViewed));
      listed.push_back(s.item);
    }
  }
  list.strategy = objected       ? Strategy::kNotPersonalized
                  : has_history ? Strategy::kPersonalized
                                : Strategy::kPopularFallback;
  if (list.products.size() >= r.count) return list;
  // Filled with popular products: not what is listed, nor (unless asked)
  // what the customer has. An objecting customer's history is not read.
  auto popular = t->Popular(r.count - list.products.size(), [&](domain::ItemIndex i) {
    if (std::find(listed.begin(), listed.end(), i) != listed.end()) return false;
    if (!objected && !r.include_owned && has_history && t->model.Has(u->second, i)) return false;
    return t->Accept(i, r.category_prefix);
  });
  for (const auto& s : popular) list.products.push_back(t->Entry(s, Reason::kPopular));
  return list;
}

absl::StatusOr<RecommendationList> Recommender::ForCustomer(const std::string& tenant,
                                                            const std::string& customer_id,
                                                            const ListRequest& r) const {
  const Tenant* t = FindTenant(tenant);
  bool objected = false;
  {
    if (t == nullptr) {
      return common::WithReason(absl::NotFoundError("customer not found"), "CUSTOMER_NOT_FOUND");
    }
    std::shared_lock lock(t->mu);
    if (!t->known.contains(customer_id)) {
      return common::WithReason(absl::NotFoundError("customer not found"), "CUSTOMER_NOT_FOUND");
    }
    objected = t->Objected(customer_id);
  }
  return ForUser(t, customer_id, objected, r);
}

absl::StatusOr<RecommendationList> Recommender::ForVisitor(const std::string& tenant,
                                                           const std::string& visitor_id,
                                                           const ListRequest& r) const {
  return ForUser(FindTenant(tenant), VisitorKey(visitor_id), false, r);
}

absl::StatusOr<RecommendationList> Recommender::Similar(const std::string& tenant,
                                                        const std::string& sku,
                                                        const ListRequest& r) const {
  const Tenant* t = FindTenant(tenant);
  if (t == nullptr) {
    return common::WithReason(absl::NotFoundError("product not found"), "PRODUCT_NOT_FOUND");
  }
  std::shared_lock lock(t->mu);
  auto it = t->items.find(sku);
  if (it == t->items.end()) {
    return common::WithReason(absl::NotFoundError("product not found"), "PRODUCT_NOT_FOUND");
  }
  RecommendationList list;
  list.strategy = Strategy::kRelated;
  for (const auto& s : t->model.ForItems({it->second}, r.count, [&](domain::ItemIndex i) {
         return t->Accept(i, r.category_prefix);
       })) {
    list.products.push_back(t->Entry(s, Reason::kRelated));
  }
  return list;
}

std::vector<Recommended> Recommender::PopularAmong(const std::string& tenant,
                                                   const std::vector<std::string>& members,
                                                   const ListRequest& r) const {
  std::vector<Recommended> out;
  const Tenant* t = FindTenant(tenant);
  if (t == nullptr) return out;
  std::shared_lock lock(t->mu);
  absl::flat_hash_map<domain::ItemIndex, double> score;
  for (const std::string& m : members) {
    auto u = t->users.find(m);
    if (u == t->users.end()) continue;
    t->model.ForEachItem(u->second, [&](domain::ItemIndex i, double affinity, std::int64_t) {
      score[i] += affinity;
    });
  }
  std::vector<domain::ScoredItem> ranked;
  for (const auto& [item, s] : score) {
    if (s > 0 && t->Accept(item, r.category_prefix)) ranked.push_back({item, s, item});
  }
  const std::size_t n = std::min(r.count, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(n), ranked.end(),
                    [&](const domain::ScoredItem& a, const domain::ScoredItem& b) {
                      if (a.score != b.score) return a.score > b.score;
                      return t->skus[a.item] < t->skus[b.item];
                    });
  for (std::size_t k = 0; k < n; ++k) out.push_back(t->Entry(ranked[k], Reason::kPopularInSegment));
  return out;
}

RecommendationList Recommender::ForCart(const std::string& tenant,
                                        const std::vector<std::string>& skus,
                                        const ListRequest& r) const {
  RecommendationList list;
  list.strategy = Strategy::kRelated;
  const Tenant* t = FindTenant(tenant);
  if (t == nullptr) return list;
  std::shared_lock lock(t->mu);
  std::vector<domain::ItemIndex> cart;
  for (const std::string& sku : skus) {
    auto it = t->items.find(sku);
    if (it != t->items.end()) cart.push_back(it->second);
  }
  for (const auto& s : t->model.ForItems(cart, r.count, [&](domain::ItemIndex i) {
         return t->Accept(i, r.category_prefix);
       })) {
    list.products.push_back(t->Entry(s, Reason::kRelated));
  }
  return list;
}

}  // namespace crm::personalization::app

namespace crm::personalization::app {

domain::InterestProfile Recommender::ProfileOf(const Tenant* t, const std::string& user_key,
                                               const std::string& customer_id,
                                               bool objected) const {
  domain::InterestProfile profile(settings_.half_life_seconds);
  if (t == nullptr) return profile;
  // An objecting customer's behaviour is not read: only their own choices.
  if (!objected) {
    auto searched = t->searched.find(user_key);
    if (searched != t->searched.end()) profile = searched->second;
    auto u = t->users.find(user_key);
    if (u != t->users.end()) {
      t->model.ForEachItem(u->second, [&](domain::ItemIndex i, double value, std::int64_t at) {
        const std::string& path = t->products[i].category_path;
        if (!path.empty()) profile.Add(path, value, at);
      });
    }
  }
  auto chosen = customer_id.empty() ? t->chosen.end() : t->chosen.find(customer_id);
  if (chosen != t->chosen.end()) {
    for (const auto& [topic, interested] : chosen->second.topics) {
      profile.SetExplicit(topic, interested);
    }
  }
  return profile;
}

InterestsView Recommender::InterestsOf(const Tenant* t, const std::string& user_key,
                                       const std::string& customer_id, bool objected,
                                       std::size_t count) const {
  InterestsView view;
  view.personalized = !objected;
  const domain::InterestProfile profile = ProfileOf(t, user_key, customer_id, objected);
  for (const auto& [topic, interested] : profile.Explicit()) {
    if (!interested) view.declined.push_back(topic);
  }
  std::sort(view.declined.begin(), view.declined.end());
  view.interests = profile.Top(absl::ToUnixSeconds(clock_.Now()), count);
  return view;
}

absl::StatusOr<Audience> Recommender::CustomerAudience(const std::string& tenant,
                                                       const std::string& customer_id,
                                                       bool with_interests) const {
  const Tenant* t = FindTenant(tenant);
  if (t == nullptr) {
    return common::WithReason(absl::NotFoundError("customer not found"), "CUSTOMER_NOT_FOUND");
  }
  std::shared_lock lock(t->mu);
  if (!t->known.contains(customer_id)) {
    return common::WithReason(absl::NotFoundError("customer not found"), "CUSTOMER_NOT_FOUND");
  }
  Audience a;
  a.objected = t->Objected(customer_id);
  if (with_interests) a.profile = ProfileOf(t, customer_id, customer_id, a.objected);
  a.now = absl::ToUnixSeconds(clock_.Now());
  return a;
}

std::optional<ProductRow> Recommender::CatalogProduct(const std::string& tenant,
                                                      const std::string& sku) const {
  const Tenant* t = FindTenant(tenant);
  if (t == nullptr) return std::nullopt;
  std::shared_lock lock(t->mu);
  auto it = t->items.find(sku);
  if (it == t->items.end() || t->products[it->second].version == 0) return std::nullopt;
  return t->products[it->second];
}

Audience Recommender::VisitorAudience(const std::string& tenant, const std::string& visitor_id,
                                      bool with_interests) const {
  const Tenant* t = FindTenant(tenant);
  Audience a;
  a.now = absl::ToUnixSeconds(clock_.Now());
  if (t == nullptr || !with_interests) return a;
  std::shared_lock lock(t->mu);
  a.profile = ProfileOf(t, VisitorKey(visitor_id), "", false);
  return a;
}

absl::StatusOr<InterestsView> Recommender::Interests(const std::string& tenant,
                                                     const std::string& customer_id,
                                                     std::size_t count) const {
  const Tenant* t = FindTenant(tenant);
  if (t == nullptr) {
    return common::WithReason(absl::NotFoundError("customer not found"), "CUSTOMER_NOT_FOUND");
  }
  std::shared_lock lock(t->mu);
  if (!t->known.contains(customer_id)) {
    return common::WithReason(absl::NotFoundError("customer not found"), "CUSTOMER_NOT_FOUND");
  }
  return InterestsOf(t, customer_id, customer_id, t->Objected(customer_id), count);
}

InterestsView Recommender::VisitorInterests(const std::string& tenant,
                                            const std::string& visitor_id,
                                            std::size_t count) const {
  const Tenant* t = FindTenant(tenant);
  if (t == nullptr) return InterestsView{};
  std::shared_lock lock(t->mu);
  return InterestsOf(t, VisitorKey(visitor_id), "", false, count);
}

absl::StatusOr<InterestsView> Recommender::ChooseTopics(
    const outbox::WriteMeta& meta, const std::string& customer_id,
    const std::vector<domain::TopicChoice>& changes, std::size_t count) {
  CRM_ASSIGN_OR_RETURN(ChosenTopics chosen,
                       repository_.Run<ChosenTopics>(
                           meta, customer_id, [&](InterestTx& tx) -> absl::StatusOr<ChosenTopics> {
                             CRM_ASSIGN_OR_RETURN(ChosenTopics c, tx.LoadChosen(customer_id));
                             CRM_RETURN_IF_ERROR(domain::ApplyChoices(changes, c.topics));
                             c.customer_id = customer_id;
                             ++c.version;
                             c.update_time = clock_.Now();
                             tx.SaveChosen(c);
                             return c;
                           }));
  {
    // Concurrent writes may commit in one order and arrive here in the
    // other: the newer version stays.
    Tenant& t = TenantFor(meta.tenant_id);
    std::unique_lock lock(t.mu);
    if (t.known.contains(customer_id)) t.Choose(chosen);  // not erased since
  }
  return Interests(meta.tenant_id, customer_id, count);
}

}  // namespace crm::personalization::app
