// crm-intent-eval: trains the service desk's classifier on a labelled CSV
// and measures it on another (docs/service-desk.md, "The classifier").
//
//   crm-intent-eval --train train.csv --test test.csv [--precision 0.95]
//                   [--solver svm|logistic] [--c 1] [--classes]
//
// CSV with a header naming a `text` column and a `category` (or `label`)
// column. Reports accuracy and macro-F1 of the model trained on the whole
// training file; and, for the precision target, the confidence threshold
// chosen on held-out data (every tenth training text, predicted by a model
// trained on the other nine tenths, which also calibrates the confidence)
// with the precision and coverage that threshold reaches on the test file.
// --classes adds each class's precision, recall and F1. Exit 2 on bad input.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "services/service_desk/domain/intent_model.h"

namespace sd = crm::service_desk::domain;

namespace {

int Die(const std::string& why) {
  std::cerr << "crm-intent-eval: " << why << "\n";
  return 2;
}

bool ReadExamples(const std::string& path, std::vector<sd::LabelledText>& out, std::string& why) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    why = "cannot read " + path;
    return false;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  absl::StatusOr<std::vector<std::vector<std::string>>> rows = sd::ParseCsv(ss.str());
  if (!rows.ok()) {
    why = path + ": " + std::string(rows.status().message());
    return false;
  }
  if (rows->empty()) {
    why = path + ": no header";
    return false;
  }
  const std::vector<std::string>& header = rows->front();
  int text = -1, label = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "text") text = static_cast<int>(i);
    if (header[i] == "category" || header[i] == "label") label = static_cast<int>(i);
  }
  if (text < 0 || label < 0) {
    why = path + ": the header names no text and category (or label) column";
    return false;
  }
  for (size_t r = 1; r < rows->size(); ++r) {
    const std::vector<std::string>& row = (*rows)[r];
    if (static_cast<int>(row.size()) <= std::max(text, label)) {
      why = path + ": row " + std::to_string(r + 1) + " has too few fields";
      return false;
    }
    out.push_back({row[text], row[label]});
  }
  return true;
}

std::vector<sd::Prediction> PredictAll(const sd::IntentModel& m,
                                       const std::vector<sd::LabelledText>& texts,
                                       std::vector<double>* micros) {
  std::vector<sd::Prediction> out;
  out.reserve(texts.size());
  for (const sd::LabelledText& t : texts) {
    const auto start = std::chrono::steady_clock::now();
    out.push_back(m.Predict(t.text));
    if (micros != nullptr) {
      micros->push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
              .count());
    }
  }
  return out;
}

std::vector<std::string> Truth(const std::vector<sd::LabelledText>& texts) {
  std::vector<std::string> out;
  for (const sd::LabelledText& t : texts) out.push_back(t.label);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string train_path, test_path;
  double target = 0.95;
  bool classes = false;
  sd::IntentModelOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--train") {
      train_path = next();
    } else if (a == "--test") {
      test_path = next();
    } else if (a == "--precision") {
      target = std::atof(next().c_str());
    } else if (a == "--c") {
      options.c = std::atof(next().c_str());
    } else if (a == "--solver") {
      const std::string s = next();
      if (s != "svm" && s != "logistic") return Die("--solver is svm or logistic");
      options.solver = s == "svm" ? sd::Solver::kSvm : sd::Solver::kLogistic;
    } else if (a == "--classes") {
      classes = true;
    } else {
      return Die("unknown argument " + a);
    }
  }
  if (train_path.empty() || test_path.empty()) {
    return Die(
        "usage: crm-intent-eval --train FILE --test FILE [--precision P] [--solver "
        "svm|logistic] [--c C] [--classes]");
  }
  if (!(target > 0 && target <= 1) || !(options.c > 0)) {
    return Die("--precision is in (0, 1], --c above 0");
  }
  std::vector<sd::LabelledText> train, test;
  std::string why;
  if (!ReadExamples(train_path, train, why) || !ReadExamples(test_path, test, why)) {
    return Die(why);
  }
  // Held out: every tenth training text, for the calibration and the threshold.
  std::vector<sd::LabelledText> fit, held;
  for (size_t i = 0; i < train.size(); ++i) (i % 10 == 9 ? held : fit).push_back(train[i]);
  absl::StatusOr<sd::IntentModel> part = sd::IntentModel::Train(fit, options);
  if (!part.ok()) return Die(std::string(part.status().message()));
  part->Calibrate(held);
  const std::vector<sd::Prediction> held_predictions = PredictAll(*part, held, nullptr);
  const sd::Threshold chosen = sd::ThresholdFor(Truth(held), held_predictions, target);

  options.margin_scale = part->margin_scale();
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<sd::IntentModel> model = sd::IntentModel::Train(train, options);
  if (!model.ok()) return Die(std::string(model.status().message()));
  const double train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> micros;
  const std::vector<sd::Prediction> predictions = PredictAll(*model, test, &micros);
  std::sort(micros.begin(), micros.end());
  const double p99 =
      micros.empty() ? 0 : micros[std::min(micros.size() - 1, micros.size() * 99 / 100)];
  const std::vector<std::string> truth = Truth(test);
  const sd::EvalReport report = sd::Evaluate(truth, predictions);
  const sd::Threshold on_test = sd::At(truth, predictions, chosen.threshold);

  std::printf("train: %zu texts, %zu labels, %zu features, %.1f s (%s, C=%g)\n", train.size(),
              model->labels().size(), model->features(), train_seconds,
              options.solver == sd::Solver::kSvm ? "svm" : "logistic", options.c);
  std::printf("test: %zu texts\n", test.size());
  std::printf("accuracy %.4f\n", report.accuracy);
  std::printf("macro_f1 %.4f\n", report.macro_f1);
  std::printf("inference p99 %.0f us\n", p99);
  if (chosen.reached) {
    std::printf(
        "precision target %.2f: threshold %.4f (held-out precision %.4f, coverage %.4f); "
        "on the test texts precision %.4f, coverage %.4f\n",
        target, chosen.threshold, chosen.precision, chosen.coverage, on_test.precision,
        on_test.coverage);
  } else {
    std::printf("precision target %.2f: not reached on the held-out texts at any threshold\n",
                target);
  }
  if (classes) {
    std::printf("%-40s %9s %9s %9s %8s\n", "class", "precision", "recall", "f1", "support");
    for (const sd::ClassReport& c : report.classes) {
      std::printf("%-40s %9.4f %9.4f %9.4f %8d\n", c.label.c_str(), c.precision, c.recall, c.f1,
                  c.support);
    }
  }
  return 0;
}
