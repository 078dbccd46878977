#include "services/service_desk/domain/ticket_classifier.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/common/text.h"

namespace crm::service_desk::domain {
namespace {

using Json = nlohmann::json;

constexpr std::pair<ClassifierTarget, const char*> kTargets[] = {
    {ClassifierTarget::kQueue, "queue"},
    {ClassifierTarget::kType, "type"},
    {ClassifierTarget::kIntent, "intent"}};
constexpr std::pair<ClassifierMode, const char*> kModes[] = {{ClassifierMode::kSuggest, "suggest"},
                                                             {ClassifierMode::kAuto, "auto"}};

absl::Status BadExample(size_t line, const std::string& why) {
  return common::InvalidField("examples", absl::StrCat("examples line ", line, ": ", why));
}

// A text cut to kMaxExampleText characters (at a character boundary).
std::string Cut(std::string text) {
  if (CharCount(text) <= kMaxExampleText) return text;
  size_t chars = 0, i = 0;
  for (; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && chars++ == kMaxExampleText) break;
  }
  text.resize(i);
  return text;
}

absl::Status CheckLabel(std::string& label, size_t line) {
  label = std::string(absl::StripAsciiWhitespace(label));
  if (label.empty() || CharCount(label) > kMaxLabel) {
    return BadExample(line, absl::StrCat("a label is 1..", kMaxLabel, " characters"));
  }
  if (!common::CheckStorableText("examples", label).ok()) {
    return BadExample(line, "the label is not storable text");
  }
  return absl::OkStatus();
}

absl::Status CheckCounts(const std::vector<LabelledText>& examples) {
  if (examples.size() < kMinTrainingExamples || examples.size() > kMaxTrainingExamples) {
    return common::InvalidField(
        "examples",
        absl::StrCat("training takes ", kMinTrainingExamples, "..", kMaxTrainingExamples,
                     " labelled texts; there are ", examples.size()));
  }
  std::set<std::string> labels;
  for (const LabelledText& e : examples) labels.insert(e.label);
  if (labels.size() < 2 || labels.size() > kMaxLabels) {
    return common::InvalidField("examples", absl::StrCat("training takes 2..", kMaxLabels,
                                                         " labels; there are ", labels.size()));
  }
  return absl::OkStatus();
}

}  // namespace

const char* TargetName(ClassifierTarget t) {
  for (const auto& [target, name] : kTargets) {
    if (target == t) return name;
  }
  return "queue";
}

std::optional<ClassifierTarget> TargetFromName(absl::string_view name) {
  for (const auto& [target, n] : kTargets) {
    if (name == n) return target;
  }
  return std::nullopt;
}

const char* ModeName(ClassifierMode m) {
  for (const auto& [mode, name] : kModes) {
    if (mode == m) return name;
  }
  return "suggest";
}

std::optional<ClassifierMode> ModeFromName(absl::string_view name) {
  for (const auto& [mode, n] : kModes) {
    if (name == n) return mode;
  }
  return std::nullopt;
}

absl::StatusOr<std::vector<LabelledText>> ParseExamples(absl::string_view ndjson) {
  std::vector<LabelledText> out;
  size_t line_no = 0;
  for (absl::string_view line : absl::StrSplit(ndjson, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    if (out.size() == kMaxTrainingExamples) {
      return common::InvalidField(
          "examples", absl::StrCat("training takes at most ", kMaxTrainingExamples, " texts"));
    }
    Json j = Json::parse(line.begin(), line.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) return BadExample(line_no, "not a JSON object");
    LabelledText e;
    for (const auto& [key, value] : j.items()) {
      if (!value.is_string()) return BadExample(line_no, absl::StrCat(key, " is not a string"));
      if (key == "text") {
        e.text = value.get<std::string>();
      } else if (key == "label") {
        e.label = value.get<std::string>();
      } else {
        return BadExample(line_no, absl::StrCat("unknown key ", key, " (text, label)"));
      }
    }
    if (!common::CheckStorableText("examples", e.text).ok()) {
      return BadExample(line_no, "the text is not storable text");
    }
    if (absl::StripAsciiWhitespace(e.text).empty() || CharCount(e.text) > kMaxExampleText) {
      return BadExample(line_no, absl::StrCat("a text is 1..", kMaxExampleText, " characters"));
    }
    CRM_RETURN_IF_ERROR(CheckLabel(e.label, line_no));
    out.push_back(std::move(e));
  }
  CRM_RETURN_IF_ERROR(CheckCounts(out));
  return out;
}

absl::Status CheckExamples(std::vector<LabelledText>& examples) {
  std::vector<LabelledText> kept;
  kept.reserve(examples.size());
  for (size_t i = 0; i < examples.size(); ++i) {
    LabelledText& e = examples[i];
    if (absl::StripAsciiWhitespace(e.text).empty()) continue;
    CRM_RETURN_IF_ERROR(CheckLabel(e.label, i + 1));
    e.text = Cut(std::move(e.text));
    kept.push_back(std::move(e));
  }
  examples = std::move(kept);
  return CheckCounts(examples);
}

std::string TicketText(const std::string& subject, const std::string& description) {
  return Cut(absl::StrCat(subject, "\n", description));
}

absl::StatusOr<TrainedClassifier> TrainClassifier(const std::vector<LabelledText>& examples,
                                                  double precision_target) {
  if (!(precision_target > 0 && precision_target <= 1)) {
    return common::InvalidField("precision_target", "precision_target is in (0, 1]");
  }
  std::vector<LabelledText> fit, held;
  for (size_t i = 0; i < examples.size(); ++i) (i % 10 == 9 ? held : fit).push_back(examples[i]);
  IntentModelOptions options;
  CRM_ASSIGN_OR_RETURN(IntentModel measured, IntentModel::Train(fit, options));
  measured.Calibrate(held);
  std::vector<std::string> truth;
  std::vector<Prediction> predicted;
  for (const LabelledText& e : held) {
    truth.push_back(e.label);
    predicted.push_back(measured.Predict(e.text));
  }
  const EvalReport eval = Evaluate(truth, predicted);
  options.margin_scale = measured.margin_scale();
  CRM_ASSIGN_OR_RETURN(IntentModel model, IntentModel::Train(examples, options));
  TrainedClassifier out{std::move(model), {}};
  ClassifierReport& r = out.report;
  r.examples = static_cast<int>(examples.size());
  r.held_out = static_cast<int>(held.size());
  r.labels = static_cast<int>(out.model.labels().size());
  r.features = static_cast<int>(out.model.features());
  r.accuracy = eval.accuracy;
  r.macro_f1 = eval.macro_f1;
  r.classes = eval.classes;
  r.precision_target = precision_target;
  r.threshold = ThresholdFor(truth, predicted, precision_target);
  return out;
}

TicketPrediction PredictFor(const Classifier& c, const IntentModel& m, absl::string_view text) {
  const Prediction p = m.Predict(text);
  TicketPrediction out;
  out.target = c.target;
  out.label = p.label;
  out.confidence = p.confidence;
  out.answered = c.report.threshold.reached && p.confidence >= c.report.threshold.threshold;
  out.version = c.version;
  return out;
}

void ApplyPrediction(const Classifier& c, TicketPrediction& p, Ticket& t) {
  if (c.mode != ClassifierMode::kAuto || !p.answered) return;
  std::string* field = c.target == ClassifierTarget::kQueue  ? &t.queue
                       : c.target == ClassifierTarget::kType ? &t.type
                                                             : nullptr;
  if (field == nullptr || !field->empty()) return;
  *field = p.label;
  p.applied = true;
}

std::string AnsweredLabel(const std::vector<TicketPrediction>& predictions,
                          ClassifierTarget target) {
  for (const TicketPrediction& p : predictions) {
    if (p.target == target && p.answered) return p.label;
  }
  return "";
}

ClassifierDrift DriftOf(int64_t applied, int64_t corrected, const ClassifierReport& report) {
  ClassifierDrift d;
  d.applied = applied;
  d.corrected = std::min(corrected, applied);
  if (applied <= 0) return d;
  const double n = static_cast<double>(applied);
  const double p = 1 - d.corrected / n;
  constexpr double kZ = 1.96;  // 95 %
  const double z2 = kZ * kZ;
  const double center = (p + z2 / (2 * n)) / (1 + z2 / n);
  const double half = kZ * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
  d.live_precision = p;
  d.upper_bound = std::min(1.0, center + half);
  d.alarm = applied >= kMinDriftSample && report.threshold.reached &&
            d.upper_bound < report.threshold.precision;
  return d;
}

AutoResponseReport SummarizeAutoResponses(std::vector<AutoResponseCounts> labels, absl::Time from,
                                          absl::Time to, const ClassifierReport* intent) {
  AutoResponseReport r;
  r.from = from;
  r.to = to;
  for (const AutoResponseCounts& c : labels) {
    r.total.questions += c.questions;
    r.total.known += c.known;
    r.total.auto_responded += c.auto_responded;
    r.total.wrote_again += c.wrote_again;
  }
  if (r.total.questions > 0) {
    r.coverage = static_cast<double>(r.total.auto_responded) / r.total.questions;
  }
  if (r.total.auto_responded > 0) {
    r.settled = 1 - static_cast<double>(r.total.wrote_again) / r.total.auto_responded;
  }
  std::sort(labels.begin(), labels.end(),
            [](const AutoResponseCounts& a, const AutoResponseCounts& b) {
              return a.questions != b.questions ? a.questions > b.questions : a.label < b.label;
            });
  if (labels.size() > kMaxLabels) labels.resize(kMaxLabels);
  r.labels = std::move(labels);
  if (intent != nullptr && intent->threshold.reached) {
    r.held_out_precision = intent->threshold.precision;
    r.held_out_coverage = intent->threshold.coverage;
  }
  return r;
}

}  // namespace crm::service_desk::domain
