// crm-rec-eval: the offline evaluation of the recommendation model against a
// most-popular baseline on the same split (protocol: docs/personalization.md).
//
//   crm-rec-eval [options] FILE
//
// FILE: one interaction per line, TAB-separated: user, item, rating, unix
// time (MovieLens' u.data as it is; bench/rec_eval.sh prepares the Online
// Retail purchases in this form). Options: see Usage().
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "services/personalization/domain/item_similarity.h"
#include "services/personalization/domain/rec_eval.h"

namespace {

using crm::personalization::domain::CoOccurrenceModel;
using crm::personalization::domain::Interaction;
using crm::personalization::domain::ItemIndex;
using crm::personalization::domain::MetricsAccumulator;
using crm::personalization::domain::RankingMetrics;
using crm::personalization::domain::RecommendOptions;
using crm::personalization::domain::SimilarityKind;
using crm::personalization::domain::SimilarityParams;
using crm::personalization::domain::UserIndex;

struct Options {
  std::string file;
  std::size_t k = 10;
  std::uint64_t seed = 42;
  double train_fraction = 0.75;
  SimilarityParams similarity;
  double half_life_days = 365;
  std::size_t max_history = 200;
  bool rating_weight = false;
  bool fill_popular = true;
};

void Usage() {
  std::cerr <<
      R"(usage: crm-rec-eval [options] FILE
FILE: TAB-separated lines "user item rating unix_time" (rating may be ignored).
  --k N               list length (10)
  --seed N            seed of the per-user split (42)
  --train-fraction F  share of each user's items used for training (0.75)
  --similarity S      jaccard | cosine | lift | damped (jaccard)
  --alpha A --beta B  exponents of "damped": Cij / (Cii^A * Cjj^B) (0.5, 0.5)
  --locality Q        each similarity raised to the power Q before summing (3)
  --neighbours K      an item counts through its K most co-occurring items; 0 = all (200)
  --half-life-days D  affinity half-life; 0 = no decay (365)
  --max-history N     a user's most affine items used for scoring (200)
  --rating-weight     weigh an interaction by its rating (default: by its rows)
  --no-fill           do not fill short lists with popular items
)";
}

bool ParseArgs(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](auto& out) {
      if (i + 1 >= argc) return false;
      return absl::SimpleAtoi(argv[++i], &out);
    };
    auto real = [&](double& out) {
      if (i + 1 >= argc) return false;
      return absl::SimpleAtod(argv[++i], &out);
    };
    bool ok = true;
    if (a == "--k") {
      ok = value(o.k) && o.k > 0;
    } else if (a == "--seed") {
      ok = value(o.seed);
    } else if (a == "--train-fraction") {
      ok = real(o.train_fraction) && o.train_fraction > 0 && o.train_fraction < 1;
    } else if (a == "--similarity" && i + 1 < argc) {
      const std::string s = argv[++i];
      if (s == "jaccard") {
        o.similarity.kind = SimilarityKind::kJaccard;
      } else if (s == "cosine") {
        o.similarity.kind = SimilarityKind::kCosine;
      } else if (s == "lift") {
        o.similarity.kind = SimilarityKind::kLift;
      } else if (s == "damped") {
        o.similarity.kind = SimilarityKind::kDamped;
      } else {
        ok = false;
      }
    } else if (a == "--alpha") {
      ok = real(o.similarity.alpha);
    } else if (a == "--neighbours") {
      ok = value(o.similarity.neighbours);
    } else if (a == "--locality") {
      ok = real(o.similarity.locality) && o.similarity.locality > 0;
    } else if (a == "--beta") {
      ok = real(o.similarity.beta);
    } else if (a == "--half-life-days") {
      ok = real(o.half_life_days) && o.half_life_days >= 0;
    } else if (a == "--max-history") {
      ok = value(o.max_history) && o.max_history > 0;
    } else if (a == "--rating-weight") {
      o.rating_weight = true;
    } else if (a == "--no-fill") {
      o.fill_popular = false;
    } else if (!a.empty() && a[0] != '-' && o.file.empty()) {
      o.file = a;
    } else {
      ok = false;
    }
    if (!ok) {
      std::cerr << "crm-rec-eval: bad argument " << a << "\n";
      return false;
    }
  }
  return !o.file.empty();
}

struct Data {
  std::vector<Interaction> rows;
  std::vector<std::string> users;
  std::vector<std::string> items;
};

bool Load(const std::string& path, Data& d) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "crm-rec-eval: cannot open " << path << "\n";
    return false;
  }
  absl::flat_hash_map<std::string, UserIndex> users;
  absl::flat_hash_map<std::string, ItemIndex> items;
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<absl::string_view> f = absl::StrSplit(line, '\t');
    Interaction r;
    if (f.size() != 4 || f[0].empty() || f[1].empty() || !absl::SimpleAtod(f[2], &r.rating) ||
        !absl::SimpleAtoi(f[3], &r.time)) {
      std::cerr << "crm-rec-eval: " << path << ":" << n
                << ": expected 4 TAB-separated fields: user, item, rating, unix time\n";
      return false;
    }
    auto [u, new_user] = users.try_emplace(f[0], static_cast<UserIndex>(users.size()));
    if (new_user) d.users.emplace_back(f[0]);
    auto [it, new_item] = items.try_emplace(f[1], static_cast<ItemIndex>(items.size()));
    if (new_item) d.items.emplace_back(f[1]);
    r.user = u->second;
    r.item = it->second;
    d.rows.push_back(r);
  }
  return true;
}

void PrintRow(const char* name, const RankingMetrics& m, double coverage, double train_s,
              double ms_per_user) {
  std::cout << absl::StrFormat("%-18s %12.4f %10.4f %8.4f %7.4f %9.4f %8.3f %8.3f\n", name,
                               m.precision, m.recall, m.ndcg, m.map, coverage, train_s,
                               ms_per_user);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, o)) {
    Usage();
    return 2;
  }
  Data data;
  if (!Load(o.file, data)) return 1;
  const std::size_t raw_rows = data.rows.size();
  const std::vector<Interaction> pairs =
      crm::personalization::domain::DistinctPairs(std::move(data.rows));
  auto split = crm::personalization::domain::SplitPerUser(pairs, o.train_fraction, o.seed);

  using Clock = std::chrono::steady_clock;
  auto seconds = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };

  // Training: the interactions in time order, as the service receives them.
  std::vector<Interaction> train = split.train;
  std::stable_sort(train.begin(), train.end(),
                   [](const Interaction& a, const Interaction& b) { return a.time < b.time; });
  const auto t0 = Clock::now();
  CoOccurrenceModel model(o.similarity,
                          static_cast<std::int64_t>(o.half_life_days * 86400.0 + 0.5));
  std::int64_t now = 0;
  for (const Interaction& r : train) {
    model.Add(r.user, r.item, o.rating_weight ? r.rating : r.rows, r.time);
    now = std::max(now, r.time);
  }
  const double train_s = seconds(Clock::now() - t0);
  const auto p0 = Clock::now();
  const std::size_t catalog = [&] {
    std::size_t n = 0;
    for (ItemIndex i = 0; i < model.ItemCapacity(); ++i) n += model.ItemUsers(i) > 0;
    return n;
  }();
  // The popular list once, long enough for any user after removing what
  // they have (the baseline and the fill).
  const auto popular = model.Popular(model.ItemCapacity(), nullptr);
  const double popular_s = seconds(Clock::now() - p0);

  absl::flat_hash_map<UserIndex, absl::flat_hash_set<ItemIndex>> relevant;
  for (const Interaction& r : split.test) relevant[r.user].insert(r.item);
  std::vector<UserIndex> test_users;
  for (const auto& [u, unused] : relevant) test_users.push_back(u);
  std::sort(test_users.begin(), test_users.end());

  auto top_popular = [&](UserIndex u, std::vector<ItemIndex>& out) {
    for (const auto& p : popular) {
      if (out.size() >= o.k) break;
      if (model.Has(u, p.item)) continue;
      if (std::find(out.begin(), out.end(), p.item) != out.end()) continue;
      out.push_back(p.item);
    }
  };

  MetricsAccumulator engine(o.k);
  MetricsAccumulator baseline(o.k);
  RecommendOptions ro;
  ro.count = o.k;
  ro.now = now;
  ro.max_history = o.max_history;
  Clock::duration engine_time{};
  Clock::duration baseline_time{};
  std::size_t filled = 0;
  for (UserIndex u : test_users) {
    auto s0 = Clock::now();
    std::vector<ItemIndex> ranked;
    for (const auto& s : model.Recommend(u, ro)) ranked.push_back(s.item);
    if (o.fill_popular && ranked.size() < o.k) {
      ++filled;
      top_popular(u, ranked);
    }
    engine_time += Clock::now() - s0;
    engine.Add(ranked, relevant[u]);
    s0 = Clock::now();
    std::vector<ItemIndex> pop;
    top_popular(u, pop);
    baseline_time += Clock::now() - s0;
    baseline.Add(pop, relevant[u]);
  }

  const double users = static_cast<double>(std::max<std::size_t>(1, test_users.size()));
  std::cout << "crm-rec-eval " << o.file << "\n";
  std::cout << absl::StrFormat(
      "rows %d, distinct (user, item) pairs %d, users %d, items %d\n"
      "split: seed %d, %.0f%% of each user's items to training: train %d pairs, test %d pairs, "
      "test users %d, items in training %d\n",
      raw_rows, pairs.size(), data.users.size(), data.items.size(), o.seed, o.train_fraction * 100,
      split.train.size(), split.test.size(), test_users.size(), catalog);
  const char* kinds[] = {"jaccard", "cosine", "lift", "damped"};
  std::cout << absl::StrFormat(
      "model: item co-occurrence, %s similarity (alpha %.2f, beta %.2f, locality %.2f, "
      "neighbours %d), "
      "half-life %.1f days, "
      "weight %s, max history %d, %d stored pairs; %d of %d users' lists filled with popular "
      "items\n",
      kinds[static_cast<int>(o.similarity.kind)], o.similarity.alpha, o.similarity.beta,
      o.similarity.locality, o.similarity.neighbours, o.half_life_days,
      o.rating_weight ? "rating" : "rows", o.max_history, model.PairCount(), filled,
      test_users.size());
  std::cout << absl::StrFormat("%-18s %12s %10s %8s %7s %9s %8s %8s\n", "model",
                               absl::StrFormat("precision@%d", o.k),
                               absl::StrFormat("recall@%d", o.k), absl::StrFormat("ndcg@%d", o.k),
                               absl::StrFormat("map@%d", o.k), "coverage", "train_s", "ms/user");
  PrintRow("item-cooccurrence", engine.Result(),
           static_cast<double>(engine.DistinctRecommended()) / static_cast<double>(catalog),
           train_s, seconds(engine_time) * 1000 / users);
  PrintRow("most-popular", baseline.Result(),
           static_cast<double>(baseline.DistinctRecommended()) / static_cast<double>(catalog),
           popular_s, seconds(baseline_time) * 1000 / users);
  return 0;
}
