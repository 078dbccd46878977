#pragma once
// Classifiers of a tenant's tickets (docs/service-desk.md, "Classifiers on
// tickets"): for a target — the queue, the type, or an intent the ticket
// has no field for — a model (intent_model.h) trained on labelled texts
// (the tenant's examples, or its solved and closed tickets), with its
// report measured on held-out texts: accuracy, macro-F1, each label's
// precision and recall, and the confidence threshold reaching the
// tenant's precision target with the share of texts it answers. A new
// ticket gets a prediction from every classifier of its tenant; below the
// threshold the classifier does not know. In mode "auto" a known answer
// fills the target field when the creator left it empty; in "suggest" it
// is only kept with the ticket. Pure.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/service_desk/domain/intent_model.h"
#include "services/service_desk/domain/ticket.h"

namespace crm::service_desk::domain {

const char* TargetName(ClassifierTarget t);  // "queue", "type", "intent"
std::optional<ClassifierTarget> TargetFromName(absl::string_view name);

enum class ClassifierMode { kSuggest = 1, kAuto };
const char* ModeName(ClassifierMode m);  // "suggest", "auto"
std::optional<ClassifierMode> ModeFromName(absl::string_view name);

struct ClassifierReport {
  int examples = 0;  // texts it learned from
  int held_out = 0;  // of them, measured on (every tenth; the rest trained the measured model)
  int labels = 0;
  int features = 0;
  double accuracy = 0;  // on the held-out texts
  double macro_f1 = 0;
  std::vector<ClassReport> classes;  // by label, on the held-out texts
  double precision_target = 0.95;
  Threshold threshold;  // the lowest confidence answering at that precision (held out)
  double train_seconds = 0;
};

// The drift alarm: how a queue or type classifier's automatic answers fare
// in service. A field it filled (mode auto) that someone changed after the
// ticket's creation is a correction; over the newest kDriftWindow filled
// tickets since its training, the live precision (1 - corrected /
// applied) and the upper end of its Wilson 95 % interval. The alarm: at
// least kMinDriftSample answers and that upper end below the held-out
// precision at the threshold — the classifier is measurably worse in
// service than when it was trained (retrain it, or set it to suggest).
struct ClassifierDrift {
  int64_t applied = 0;
  int64_t corrected = 0;
  double live_precision = 0;  // 0 without answers
  double upper_bound = 0;     // of its 95 % interval; 0 without answers
  bool alarm = false;
};
inline constexpr int kDriftWindow = 1'000;
inline constexpr int kMinDriftSample = 30;
ClassifierDrift DriftOf(int64_t applied, int64_t corrected, const ClassifierReport& report);

struct Classifier {
  ClassifierTarget target = ClassifierTarget::kQueue;
  ClassifierMode mode = ClassifierMode::kSuggest;
  std::string source;  // "examples" or "tickets"
  ClassifierReport report;
  ClassifierDrift drift;  // measured when read (queue and type; none for intent)
  int64_t version = 0;  // 1 at the first training, +1 at each change
  std::string trained_by;
  absl::Time train_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
};

inline constexpr size_t kMaxTrainingExamples = 50'000;
inline constexpr size_t kMinTrainingExamples = 10;
inline constexpr size_t kMaxExampleText = 10'000;  // characters
inline constexpr size_t kMaxLabel = 64;            // characters (a queue's, a type's limit)
inline constexpr size_t kMaxLabels = 1'000;

// Labelled texts as NDJSON, one {"text": "...", "label": "..."} a line
// (blank lines skipped; no other key). INVALID_ARGUMENT naming
// "examples" and the line for a bad line, a text over 10,000 characters
// or a label that is not 1..64 characters; too few or too many
// (10..50,000 texts, 2..1,000 labels).
absl::StatusOr<std::vector<LabelledText>> ParseExamples(absl::string_view ndjson);
// The same checks for texts from elsewhere (the tenant's tickets): labels
// trimmed, texts cut to 10,000 characters, empty ones left out.
absl::Status CheckExamples(std::vector<LabelledText>& examples);

// A ticket's text for its classifiers: the subject and the first message.
std::string TicketText(const std::string& subject, const std::string& description);

struct TrainedClassifier {
  IntentModel model;
  ClassifierReport report;
};
// Every tenth example (in the given order) held out; a model trained on
// the rest is calibrated on them and measured; the model kept is trained
// on every example with that calibration. precision_target in (0, 1].
absl::StatusOr<TrainedClassifier> TrainClassifier(const std::vector<LabelledText>& examples,
                                                  double precision_target);

// The prediction of `c` (its model `m`) for a text.
TicketPrediction PredictFor(const Classifier& c, const IntentModel& m, absl::string_view text);
// Mode auto: an answered queue or type prediction fills that field of `t`
// when it is empty (applied set). An intent has no field.
void ApplyPrediction(const Classifier& c, TicketPrediction& p, Ticket& t);

// What routing conditions read: the answered label of a target, "" when
// there is no such classifier or it does not know.
std::string AnsweredLabel(const std::vector<TicketPrediction>& predictions,
                          ClassifierTarget target);

// Auto-response's figures (docs/service-desk.md, "Auto-response") over
// the mail tickets opened in a period, by intent label ("" in the total).
struct AutoResponseCounts {
  std::string label;
  int64_t questions = 0;       // with an intent prediction
  int64_t known = 0;           // at or above the classifier's threshold
  int64_t auto_responded = 0;  // answered by the label's macro
  int64_t wrote_again = 0;     // of those, the customer wrote again after the answer
};
struct AutoResponseReport {
  absl::Time from = absl::InfinitePast();
  absl::Time to = absl::InfinitePast();
  AutoResponseCounts total;
  double coverage = 0;                     // auto_responded / questions (0 without questions)
  double settled = 0;                      // 1 - wrote_again / auto_responded (0 without answers)
  std::vector<AutoResponseCounts> labels;  // most questions first, then by label
  // The intent classifier's held-out figures at its threshold (0 without one).
  double held_out_precision = 0;
  double held_out_coverage = 0;
};
inline constexpr int kMaxReportDays = 366;
inline constexpr int kDefaultReportDays = 30;
// The report of the labels' counts (any order; at most kMaxLabels kept)
// over [from, to], with the intent classifier's report when there is one.
AutoResponseReport SummarizeAutoResponses(std::vector<AutoResponseCounts> labels, absl::Time from,
                                          absl::Time to, const ClassifierReport* intent);

}  // namespace crm::service_desk::domain
