// The service desk's routing classifier on BANKING77 (10,003 training and
// 3,080 test queries of an online bank, 77 intents; ../shared/data/README.md):
// trained on the training split only, measured once on the test split. The
// issue asks for at least 91 % accuracy (a linear model over word and
// character n-grams reaches about that; fine-tuned BERT 93.7 %). The
// threshold for 95 % precision is chosen on held-out training texts.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "services/service_desk/domain/intent_model.h"

namespace {

namespace sd = crm::service_desk::domain;

std::vector<sd::LabelledText> Load(const std::string& name) {
  std::ifstream f(std::string(CRM_SHARED_DATA_DIR) + "/banking77/" + name, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  auto rows = sd::ParseCsv(ss.str());
  REQUIRE(rows.ok());
  REQUIRE(rows->size() > 1);
  REQUIRE((*rows)[0] == std::vector<std::string>{"text", "category"});
  std::vector<sd::LabelledText> out;
  for (size_t i = 1; i < rows->size(); ++i) out.push_back({(*rows)[i][0], (*rows)[i][1]});
  return out;
}

}  // namespace

TEST_CASE("BANKING77: at least 91 % test accuracy, and 95 % precision at a held-out threshold",
          "[service_desk][banking77]") {
  const std::vector<sd::LabelledText> train = Load("train.csv");
  const std::vector<sd::LabelledText> test = Load("test.csv");
  CHECK(train.size() == 10003);
  CHECK(test.size() == 3080);
  std::vector<sd::LabelledText> fit, held;
  for (size_t i = 0; i < train.size(); ++i) (i % 10 == 9 ? held : fit).push_back(train[i]);
  absl::StatusOr<sd::IntentModel> part = sd::IntentModel::Train(fit, {});
  REQUIRE(part.ok());
  part->Calibrate(held);
  std::vector<std::string> held_truth;
  std::vector<sd::Prediction> held_predicted;
  for (const sd::LabelledText& t : held) {
    held_truth.push_back(t.label);
    held_predicted.push_back(part->Predict(t.text));
  }
  const sd::Threshold chosen = sd::ThresholdFor(held_truth, held_predicted, 0.95);
  REQUIRE(chosen.reached);

  sd::IntentModelOptions options;
  options.margin_scale = part->margin_scale();
  absl::StatusOr<sd::IntentModel> model = sd::IntentModel::Train(train, options);
  REQUIRE(model.ok());
  CHECK(model->labels().size() == 77);
  std::vector<std::string> truth;
  std::vector<sd::Prediction> predicted;
  for (const sd::LabelledText& t : test) {
    truth.push_back(t.label);
    predicted.push_back(model->Predict(t.text));
  }
  const sd::EvalReport report = sd::Evaluate(truth, predicted);
  const sd::Threshold on_test = sd::At(truth, predicted, chosen.threshold);
  INFO("accuracy " << report.accuracy << ", macro-F1 " << report.macro_f1 << ", threshold "
                   << chosen.threshold << ": test precision " << on_test.precision << ", coverage "
                   << on_test.coverage);
  CHECK(report.accuracy >= 0.91);
  CHECK(report.macro_f1 >= 0.90);
  // The held-out threshold carries over to unseen texts within a point,
  // and still answers most of them.
  CHECK(on_test.precision >= 0.94);
  CHECK(on_test.coverage >= 0.85);
}
