#include "services/service_desk/domain/intent_model.h"

#include <linear.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace crm::service_desk::domain {
namespace {

void Quiet(const char*) {}

// liblinear's features of a vector: 1-based indices, the bias term last,
// ended by index -1.
std::vector<feature_node> Nodes(const SparseVector& v, int bias_index) {
  std::vector<feature_node> out;
  out.reserve(v.size() + 2);
  for (const auto& [i, w] : v) out.push_back({i + 1, w});
  out.push_back({bias_index, 1.0});
  out.push_back({-1, 0.0});
  return out;
}

// Bytes of a stored model: fixed-size values in this machine's order
// (a model is read by the build that wrote it or its kin: x86-64 and
// arm64 are both little-endian), strings and arrays after their length.
constexpr absl::string_view kMagic = "crm-intent-model/1\n";

template <typename T>
void Put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
void PutString(std::string& out, absl::string_view s) {
  Put<uint32_t>(out, static_cast<uint32_t>(s.size()));
  out.append(s.data(), s.size());
}

class Reader {
 public:
  explicit Reader(absl::string_view bytes) : rest_(bytes) {}
  template <typename T>
  T Get() {
    T v{};
    if (rest_.size() < sizeof v) {
      ok_ = false;
      return v;
    }
    std::memcpy(&v, rest_.data(), sizeof v);
    rest_.remove_prefix(sizeof v);
    return v;
  }
  std::string GetString() {
    const uint32_t n = Get<uint32_t>();
    if (!ok_ || rest_.size() < n) {
      ok_ = false;
      return "";
    }
    std::string s(rest_.substr(0, n));
    rest_.remove_prefix(n);
    return s;
  }
  // A count of items of at least `item` bytes each that the rest can hold.
  bool Fits(uint64_t n, size_t item) {
    if (n > rest_.size() / std::max<size_t>(item, 1)) ok_ = false;
    return ok_;
  }
  bool ok() const { return ok_; }
  bool done() const { return ok_ && rest_.empty(); }

 private:
  absl::string_view rest_;
  bool ok_ = true;
};

}  // namespace

struct IntentModel::Linear {
  model* m = nullptr;
  std::vector<int> order;  // the model's class k -> our label index
  ~Linear() {
    if (m != nullptr) free_and_destroy_model(&m);
  }
};

IntentModel::IntentModel(IntentModel&&) noexcept = default;
IntentModel& IntentModel::operator=(IntentModel&&) noexcept = default;
IntentModel::~IntentModel() = default;

absl::StatusOr<IntentModel> IntentModel::Train(const std::vector<LabelledText>& examples,
                                               const IntentModelOptions& options) {
  std::set<std::string> distinct;
  for (const LabelledText& e : examples) distinct.insert(e.label);
  if (examples.empty() || distinct.size() < 2) {
    return absl::InvalidArgumentError("training needs texts of at least 2 labels");
  }
  IntentModel out;
  out.options_ = options;
  out.labels_.assign(distinct.begin(), distinct.end());
  std::map<std::string, int> label_index;
  for (size_t i = 0; i < out.labels_.size(); ++i) label_index[out.labels_[i]] = static_cast<int>(i);
  std::vector<std::string> texts;
  texts.reserve(examples.size());
  for (const LabelledText& e : examples) texts.push_back(e.text);
  out.vectorizer_ = Vectorizer::Fit(texts, options.features);
  const int bias_index = static_cast<int>(out.vectorizer_.size()) + 1;
  std::vector<std::vector<feature_node>> rows;
  std::vector<feature_node*> x;
  std::vector<double> y;
  rows.reserve(examples.size());
  for (const LabelledText& e : examples) {
    rows.push_back(Nodes(out.vectorizer_.Transform(e.text), bias_index));
    y.push_back(label_index[e.label]);
  }
  for (auto& r : rows) x.push_back(r.data());
  problem prob{};
  prob.l = static_cast<int>(rows.size());
  prob.n = bias_index;
  prob.y = y.data();
  prob.x = x.data();
  prob.bias = 1.0;
  parameter param{};
  param.solver_type = options.solver == Solver::kLogistic ? L2R_LR : L2R_L2LOSS_SVC_DUAL;
  param.eps = options.solver == Solver::kLogistic ? 0.01 : 0.1;
  param.C = options.c;
  param.p = 0.1;
  if (const char* bad = check_parameter(&prob, &param)) {
    return absl::InvalidArgumentError(absl::StrCat("liblinear: ", bad));
  }
  static std::once_flag quiet;
  std::call_once(quiet, [] { set_print_string_function(&Quiet); });
  out.linear_ = std::make_unique<Linear>();
  out.linear_->m = train(&prob, &param);
  const int k = get_nr_class(out.linear_->m);
  std::vector<int> order(k);
  get_labels(out.linear_->m, order.data());
  out.linear_->order = order;
  return out;
}

std::string IntentModel::Serialize() const {
  std::string out(kMagic);
  Put<int32_t>(out, options_.solver == Solver::kLogistic ? 0 : 1);
  Put<double>(out, options_.c);
  Put<double>(out, options_.margin_scale);
  const FeatureOptions& f = vectorizer_.options();
  for (int v : {f.word_max_n, f.char_min_n, f.char_max_n, f.min_df}) Put<int32_t>(out, v);
  Put<uint32_t>(out, static_cast<uint32_t>(labels_.size()));
  for (const std::string& l : labels_) PutString(out, l);
  const std::vector<std::string> terms = vectorizer_.Vocabulary();
  Put<uint32_t>(out, static_cast<uint32_t>(terms.size()));
  for (size_t i = 0; i < terms.size(); ++i) {
    PutString(out, terms[i]);
    Put<double>(out, vectorizer_.idf()[i]);
  }
  const model* m = linear_->m;
  Put<int32_t>(out, m->param.solver_type);
  Put<int32_t>(out, m->nr_class);
  Put<int32_t>(out, m->nr_feature);
  Put<double>(out, m->bias);
  for (int i = 0; i < m->nr_class; ++i) Put<int32_t>(out, m->label[i]);
  const int nr_w = m->nr_class == 2 ? 1 : m->nr_class;
  const uint64_t nw = static_cast<uint64_t>(m->nr_feature + (m->bias >= 0 ? 1 : 0)) * nr_w;
  Put<uint64_t>(out, nw);
  out.append(reinterpret_cast<const char*>(m->w), nw * sizeof(double));
  return out;
}

absl::StatusOr<IntentModel> IntentModel::Deserialize(absl::string_view bytes) {
  const auto bad = [] { return absl::InvalidArgumentError("not a stored intent model"); };
  if (!absl::StartsWith(bytes, kMagic)) return bad();
  Reader r(bytes.substr(kMagic.size()));
  IntentModel out;
  out.options_.solver = r.Get<int32_t>() == 0 ? Solver::kLogistic : Solver::kSvm;
  out.options_.c = r.Get<double>();
  out.options_.margin_scale = r.Get<double>();
  FeatureOptions& f = out.options_.features;
  f.word_max_n = r.Get<int32_t>();
  f.char_min_n = r.Get<int32_t>();
  f.char_max_n = r.Get<int32_t>();
  f.min_df = r.Get<int32_t>();
  const uint32_t n_labels = r.Get<uint32_t>();
  if (!r.Fits(n_labels, sizeof(uint32_t)) || n_labels < 2) return bad();
  for (uint32_t i = 0; i < n_labels; ++i) out.labels_.push_back(r.GetString());
  const uint32_t n_terms = r.Get<uint32_t>();
  if (!r.Fits(n_terms, sizeof(uint32_t) + sizeof(double))) return bad();
  std::vector<std::string> terms(n_terms);
  std::vector<double> idf(n_terms);
  for (uint32_t i = 0; i < n_terms; ++i) {
    terms[i] = r.GetString();
    idf[i] = r.Get<double>();
  }
  const int32_t solver_type = r.Get<int32_t>();
  const int32_t nr_class = r.Get<int32_t>();
  const int32_t nr_feature = r.Get<int32_t>();
  const double bias = r.Get<double>();
  if (!r.ok() || nr_class != static_cast<int32_t>(n_labels) ||
      nr_feature != static_cast<int32_t>(n_terms) || !r.Fits(nr_class, sizeof(int32_t))) {
    return bad();
  }
  std::vector<int> model_labels(nr_class);
  for (int& l : model_labels) {
    l = r.Get<int32_t>();
    if (l < 0 || l >= nr_class) return bad();
  }
  const uint64_t nw = r.Get<uint64_t>();
  const int nr_w = nr_class == 2 ? 1 : nr_class;
  if (nw != static_cast<uint64_t>(nr_feature + (bias >= 0 ? 1 : 0)) * nr_w ||
      !r.Fits(nw, sizeof(double))) {
    return bad();
  }
  out.vectorizer_ = Vectorizer::FromParts(f, std::move(terms), std::move(idf));
  out.linear_ = std::make_unique<Linear>();
  // liblinear frees what it is given with free(): allocated with malloc.
  auto* m = static_cast<model*>(std::calloc(1, sizeof(model)));
  m->param.solver_type = solver_type;
  m->param.C = out.options_.c;
  m->nr_class = nr_class;
  m->nr_feature = nr_feature;
  m->bias = bias;
  m->label = static_cast<int*>(std::malloc(sizeof(int) * nr_class));
  std::copy(model_labels.begin(), model_labels.end(), m->label);
  m->w = static_cast<double*>(std::malloc(sizeof(double) * nw));
  for (uint64_t i = 0; i < nw; ++i) m->w[i] = r.Get<double>();
  out.linear_->m = m;
  out.linear_->order = model_labels;
  if (!r.done()) return bad();
  return out;
}

std::vector<double> IntentModel::Scores(absl::string_view text) const {
  const int bias_index = static_cast<int>(vectorizer_.size()) + 1;
  const std::vector<feature_node> x = Nodes(vectorizer_.Transform(text), bias_index);
  const int k = static_cast<int>(linear_->order.size());
  std::vector<double> values(k);
  std::vector<double> scores(labels_.size(), -1e9);
  if (options_.solver == Solver::kLogistic) {
    predict_probability(linear_->m, x.data(), values.data());
    for (int i = 0; i < k; ++i) scores[linear_->order[i]] = values[i];
    return scores;
  }
  predict_values(linear_->m, x.data(), values.data());
  if (k == 2) {
    scores[linear_->order[0]] = values[0];
    scores[linear_->order[1]] = -values[0];
  } else {
    for (int i = 0; i < k; ++i) scores[linear_->order[i]] = values[i];
  }
  return scores;
}

Prediction IntentModel::FromScores(const std::vector<double>& scores, double scale) const {
  const size_t best =
      static_cast<size_t>(std::max_element(scores.begin(), scores.end()) - scores.begin());
  Prediction p;
  p.label = labels_[best];
  if (options_.solver == Solver::kLogistic) {
    p.confidence = scores[best];  // liblinear's probabilities, normalized over the classes
    return p;
  }
  // Softmax of the margins.
  double sum = 0;
  for (double s : scores) sum += std::exp(scale * (s - scores[best]));
  p.confidence = 1.0 / sum;
  return p;
}

Prediction IntentModel::Predict(absl::string_view text) const {
  const double scale = options_.margin_scale > 0 ? options_.margin_scale : 5.0;
  return FromScores(Scores(text), scale);
}

void IntentModel::Calibrate(const std::vector<LabelledText>& held_out) {
  if (options_.solver != Solver::kSvm || held_out.empty()) return;
  std::vector<std::vector<double>> scores;
  std::vector<size_t> truth;
  for (const LabelledText& e : held_out) {
    auto it = std::lower_bound(labels_.begin(), labels_.end(), e.label);
    if (it == labels_.end() || *it != e.label) continue;  // a label it never saw
    scores.push_back(Scores(e.text));
    truth.push_back(static_cast<size_t>(it - labels_.begin()));
  }
  if (scores.empty()) return;
  double best_scale = 5.0;
  double best_loss = 1e300;
  for (double scale = 0.5; scale <= 50.0; scale *= 1.1) {
    double loss = 0;
    for (size_t i = 0; i < scores.size(); ++i) {
      const double top = *std::max_element(scores[i].begin(), scores[i].end());
      double sum = 0;
      for (double s : scores[i]) sum += std::exp(scale * (s - top));
      loss -= scale * (scores[i][truth[i]] - top) - std::log(sum);
    }
    if (loss < best_loss) {
      best_loss = loss;
      best_scale = scale;
    }
  }
  options_.margin_scale = best_scale;
}

EvalReport Evaluate(const std::vector<std::string>& truth,
                    const std::vector<Prediction>& predicted) {
  EvalReport out;
  std::map<std::string, int> tp, fp, fn, support;
  int correct = 0;
  for (size_t i = 0; i < truth.size() && i < predicted.size(); ++i) {
    ++support[truth[i]];
    tp[truth[i]] += 0;
    tp[predicted[i].label] += 0;
    if (predicted[i].label == truth[i]) {
      ++correct;
      ++tp[truth[i]];
    } else {
      ++fp[predicted[i].label];
      ++fn[truth[i]];
    }
  }
  const size_t n = std::min(truth.size(), predicted.size());
  out.accuracy = n > 0 ? static_cast<double>(correct) / static_cast<double>(n) : 0;
  double f1_sum = 0;
  for (const auto& [label, t] : tp) {
    ClassReport c;
    c.label = label;
    c.support = support[label];
    const int p_den = t + fp[label];
    const int r_den = t + fn[label];
    c.precision = p_den > 0 ? static_cast<double>(t) / p_den : 0;
    c.recall = r_den > 0 ? static_cast<double>(t) / r_den : 0;
    c.f1 = c.precision + c.recall > 0 ? 2 * c.precision * c.recall / (c.precision + c.recall) : 0;
    f1_sum += c.f1;
    out.classes.push_back(c);
  }
  out.macro_f1 = out.classes.empty() ? 0 : f1_sum / static_cast<double>(out.classes.size());
  return out;
}

Threshold At(const std::vector<std::string>& truth, const std::vector<Prediction>& predicted,
             double threshold) {
  Threshold out;
  out.threshold = threshold;
  int answered = 0, right = 0;
  const size_t n = std::min(truth.size(), predicted.size());
  for (size_t i = 0; i < n; ++i) {
    if (predicted[i].confidence < threshold) continue;
    ++answered;
    if (predicted[i].label == truth[i]) ++right;
  }
  out.precision = answered > 0 ? static_cast<double>(right) / answered : 1.0;
  out.coverage = n > 0 ? static_cast<double>(answered) / static_cast<double>(n) : 0;
  return out;
}

Threshold ThresholdFor(const std::vector<std::string>& truth,
                       const std::vector<Prediction>& predicted, double target) {
  const size_t n = std::min(truth.size(), predicted.size());
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return predicted[a].confidence > predicted[b].confidence; });
  // Walk down the confidences; the last place (lowest threshold) where the
  // answers so far reach the target, at the end of a run of equal ones.
  Threshold best;
  int answered = 0, right = 0;
  for (size_t k = 0; k < n; ++k) {
    const size_t i = order[k];
    ++answered;
    if (predicted[i].label == truth[i]) ++right;
    const bool run_ends =
        k + 1 == n || predicted[order[k + 1]].confidence < predicted[i].confidence;
    if (!run_ends) continue;
    const double precision = static_cast<double>(right) / answered;
    if (precision >= target) {
      best.threshold = predicted[i].confidence;
      best.precision = precision;
      best.coverage = static_cast<double>(answered) / static_cast<double>(n);
      best.reached = true;
    }
  }
  return best;
}

absl::StatusOr<std::vector<std::vector<std::string>>> ParseCsv(absl::string_view text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, in_quotes = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        in_quotes = false;
      } else {
        field += c;
      }
      continue;
    }
    if (c == '"' && field.empty() && !quoted) {
      in_quotes = quoted = any = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      quoted = false;
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) {
        row.push_back(std::move(field));
        rows.push_back(std::move(row));
      }
      row.clear();
      field.clear();
      quoted = any = false;
    } else {
      field += c;
      any = true;
    }
  }
  if (in_quotes) return absl::InvalidArgumentError("CSV: a quoted field is not closed");
  if (any || !field.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace crm::service_desk::domain
