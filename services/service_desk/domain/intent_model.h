#pragma once
// The service desk's text classifier (docs/service-desk.md, "The
// classifier"): TF-IDF features (text_features.h) and a linear model
// trained in-process with liblinear, one class per label (a queue, a type,
// an intent). A prediction carries a confidence in [0, 1] (the model's
// probability of its label); below a threshold the answer is "I don't
// know". Evaluate / ThresholdFor measure it: accuracy, macro-F1, per-class
// precision and recall, and the threshold reaching a precision target with
// the share of texts it still answers (coverage).
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/service_desk/domain/text_features.h"

namespace crm::service_desk::domain {

struct LabelledText {
  std::string text;
  std::string label;
};

enum class Solver {
  kLogistic,  // L2-regularized logistic regression, one class against the rest
  kSvm,       // L2-regularized linear SVM (dual), confidence from a softmax of its margins
};

struct IntentModelOptions {
  FeatureOptions features;
  Solver solver = Solver::kSvm;
  double c = 1.0;  // the regularization (larger: fits the training texts closer)
  // kSvm: the softmax's scale of the margins (a temperature's inverse),
  // fitted by Calibrate; 0: not calibrated (then 5).
  double margin_scale = 0;
};

struct Prediction {
  std::string label;
  double confidence = 0;  // of `label`, in [0, 1]
};

class IntentModel {
 public:
  // INVALID_ARGUMENT for fewer than 2 labels or an empty text set.
  static absl::StatusOr<IntentModel> Train(const std::vector<LabelledText>& examples,
                                           const IntentModelOptions& options);
  IntentModel(IntentModel&&) noexcept;
  IntentModel& operator=(IntentModel&&) noexcept;
  ~IntentModel();

  Prediction Predict(absl::string_view text) const;
  // kSvm: the softmax scale that makes the confidences of `held_out`
  // (texts the model was not trained on) most likely (a grid over 0.5..50).
  void Calibrate(const std::vector<LabelledText>& held_out);
  // The model as bytes, and back: the same predictions. Deserialize
  // answers INVALID_ARGUMENT for bytes that are not a model of this format.
  std::string Serialize() const;
  static absl::StatusOr<IntentModel> Deserialize(absl::string_view bytes);
  const std::vector<std::string>& labels() const { return labels_; }
  size_t features() const { return vectorizer_.size(); }
  double margin_scale() const { return options_.margin_scale; }

 private:
  IntentModel() = default;
  std::vector<double> Scores(absl::string_view text) const;  // per label, in labels_ order
  Prediction FromScores(const std::vector<double>& scores, double scale) const;

  IntentModelOptions options_;
  Vectorizer vectorizer_;
  std::vector<std::string> labels_;
  struct Linear;
  std::unique_ptr<Linear> linear_;
};

struct ClassReport {
  std::string label;
  double precision = 0;
  double recall = 0;
  double f1 = 0;
  int support = 0;  // texts of the label
};
struct EvalReport {
  double accuracy = 0;
  double macro_f1 = 0;  // the mean of the classes' F1 (every label of the truth or the answers)
  std::vector<ClassReport> classes;  // by label
};
// `truth[i]` against `predicted[i]`.
EvalReport Evaluate(const std::vector<std::string>& truth,
                    const std::vector<Prediction>& predicted);

struct Threshold {
  double threshold = 1;  // answer when the confidence is at least this
  double precision = 0;  // of the answers given
  double coverage = 0;   // the share of texts answered
  bool reached = false;  // the target precision is reached by some threshold
};
// The lowest threshold whose answers reach `target` precision (the most
// coverage at that precision).
Threshold ThresholdFor(const std::vector<std::string>& truth,
                       const std::vector<Prediction>& predicted, double target);
// Precision and coverage of the answers at `threshold`.
Threshold At(const std::vector<std::string>& truth, const std::vector<Prediction>& predicted,
             double threshold);

// RFC 4180 CSV: rows of fields (quoted fields may hold commas, quotes
// doubled, line breaks); INVALID_ARGUMENT for an unterminated quote.
absl::StatusOr<std::vector<std::vector<std::string>>> ParseCsv(absl::string_view text);

}  // namespace crm::service_desk::domain
