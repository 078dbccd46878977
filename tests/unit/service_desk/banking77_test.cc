// The service desk's routing classifier on BANKING77 (10,003 training and
// 3,080 test queries of an online bank, 77 intents; ../shared/data/README.md):
// trained on the training split only, measured once on the test split. The
// issue asks for at least 91 % accuracy (a linear model over word and
// character n-grams reaches about that; fine-tuned BERT 93.7 %). The
// threshold for 95 % precision is chosen on held-out training texts, as a
// tenant's classifier does, and the model is checked after a round trip
// through its stored bytes.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "services/service_desk/domain/intent_model.h"
#include "services/service_desk/domain/ticket_classifier.h"

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
  // What a tenant's classifier does (ticket_classifier.h): every tenth
  // training text held out for the calibration and the threshold, then the
  // model kept trained on every training text.
  absl::StatusOr<sd::TrainedClassifier> trained = sd::TrainClassifier(train, 0.95);
  REQUIRE(trained.ok());
  const sd::Threshold chosen = trained->report.threshold;
  REQUIRE(chosen.reached);
  CHECK(trained->report.held_out == 1000);
  // Stored and loaded back as a replica does: the same model.
  const std::string bytes = trained->model.Serialize();
  absl::StatusOr<sd::IntentModel> model = sd::IntentModel::Deserialize(bytes);
  REQUIRE(model.ok());
  INFO("stored model " << bytes.size() << " bytes, " << model->features() << " features");
  CHECK(bytes.size() < 40'000'000);
  CHECK(model->labels().size() == 77);
  std::vector<std::string> truth;
  std::vector<sd::Prediction> predicted;
  for (const sd::LabelledText& t : test) {
    truth.push_back(t.label);
    predicted.push_back(model->Predict(t.text));
    if (truth.size() % 100 == 0) {  // the loaded model predicts what the trained one did
      CHECK(predicted.back().confidence == trained->model.Predict(t.text).confidence);
    }
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
