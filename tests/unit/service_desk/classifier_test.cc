// The service desk's classifier on small texts: words and character
// n-grams (English and Korean), TF-IDF vectors, a model that learns three
// intents and says how sure it is, the measures (accuracy, macro-F1, the
// threshold for a precision target and its coverage) and the CSV reader.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "libs/common/errors.h"
#include "services/service_desk/domain/intent_model.h"
#include "services/service_desk/domain/text_features.h"
#include "services/service_desk/domain/ticket_classifier.h"

namespace {

namespace sd = crm::service_desk::domain;

bool Has(const std::vector<std::string>& v, const std::string& x) {
  for (const std::string& s : v) {
    if (s == x) return true;
  }
  return false;
}

std::vector<sd::LabelledText> Examples() {
  std::vector<sd::LabelledText> out;
  const std::vector<std::pair<std::string, std::vector<std::string>>> by_label = {
      {"card_arrival",
       {"my card has not arrived yet", "when will my new card arrive", "still waiting for my card",
        "the card I ordered never came", "how long does card delivery take",
        "card not delivered after two weeks"}},
      {"refund",
       {"I want my money back", "how do I get a refund", "refund my last purchase please",
        "the refund has not reached my account", "can I return this and be refunded",
        "money back for a cancelled order"}},
      {"password",
       {"I forgot my password", "reset my password please", "cannot log in wrong password",
        "how do I change my password", "password reset link does not work",
        "locked out after too many password attempts"}}};
  for (const auto& [label, texts] : by_label) {
    for (const std::string& t : texts) out.push_back({t, label});
  }
  return out;
}

}  // namespace

TEST_CASE("words are lower-cased runs of letters and digits, Korean included", "[service_desk]") {
  CHECK(sd::Words("Where's my CARD? Order #123!") ==
        std::vector<std::string>{"wheres", "my", "card", "order", "123"});
  CHECK(sd::Words("카드가 아직 안 왔어요") ==
        std::vector<std::string>{"카드가", "아직", "안", "왔어요"});
  CHECK(sd::Words("  ").empty());
}

TEST_CASE("terms are words, word pairs and character n-grams within word bounds",
          "[service_desk]") {
  const sd::FeatureOptions options;
  const std::vector<std::string> terms = sd::Terms("Card arrived", options);
  CHECK(Has(terms, "w card"));
  CHECK(Has(terms, "w card arrived"));
  CHECK(Has(terms, "c  c"));         // " c": the word's start
  CHECK(Has(terms, "c card "));      // 5 characters with the end
  CHECK_FALSE(Has(terms, "c d a"));  // n-grams stay inside a word
  // Korean: n-grams of syllables, so 카드가 (card + particle) and 카드를 share 카드.
  const std::vector<std::string> ko = sd::Terms("카드가", options);
  CHECK(Has(ko, "c 카드"));
  CHECK(Has(sd::Terms("카드를", options), "c 카드"));
  CHECK(Has(ko, "c  카드가 "));
}

TEST_CASE("TF-IDF vectors are L2-normalized and weigh rare terms more", "[service_desk]") {
  const sd::Vectorizer v =
      sd::Vectorizer::Fit({"card card arrived", "card refund", "card password"}, {1, 2, 2, 1});
  const sd::SparseVector x = v.Transform("card arrived");
  double norm = 0;
  for (const auto& [i, w] : x) norm += w * w;
  CHECK(std::abs(norm - 1.0) < 1e-9);
  CHECK(v.Transform("nothing known").empty());
  // Words only: "arrived" (one text) weighs more than "card" (every text).
  const sd::SparseVector words =
      sd::Vectorizer::Fit({"card arrived", "card refund"}, {1, 20, 20, 1})
          .Transform("card arrived");
  REQUIRE(words.size() == 2);  // "w arrived" (index 0), "w card" (index 1)
  CHECK(words[0].second > words[1].second);
}

TEST_CASE("the model learns intents and is surer of clear texts", "[service_desk]") {
  for (sd::Solver solver : {sd::Solver::kSvm, sd::Solver::kLogistic}) {
    sd::IntentModelOptions options;
    options.solver = solver;
    options.c = 10;
    absl::StatusOr<sd::IntentModel> m = sd::IntentModel::Train(Examples(), options);
    REQUIRE(m.ok());
    CHECK(m->labels() == std::vector<std::string>{"card_arrival", "password", "refund"});
    const sd::Prediction card = m->Predict("my card still has not arrived");
    CHECK(card.label == "card_arrival");
    CHECK(m->Predict("please reset the password").label == "password");
    CHECK(m->Predict("I would like a refund").label == "refund");
    const sd::Prediction vague = m->Predict("hello there");
    CHECK(card.confidence > vague.confidence);
    CHECK(card.confidence <= 1.0);
    CHECK(vague.confidence >= 0.0);
  }
  CHECK_FALSE(sd::IntentModel::Train({{"only one", "a"}}, {}).ok());
  CHECK_FALSE(sd::IntentModel::Train({}, {}).ok());
}

TEST_CASE("a stored model predicts what it predicted and other bytes are refused",
          "[service_desk]") {
  std::vector<sd::LabelledText> two = Examples();
  two.resize(12);  // card_arrival and refund: liblinear keeps one weight vector
  for (const auto& examples : {Examples(), two}) {
    for (sd::Solver solver : {sd::Solver::kSvm, sd::Solver::kLogistic}) {
      sd::IntentModelOptions options;
      options.solver = solver;
      absl::StatusOr<sd::IntentModel> m = sd::IntentModel::Train(examples, options);
      REQUIRE(m.ok());
      m->Calibrate(examples);
      const std::string bytes = m->Serialize();
      absl::StatusOr<sd::IntentModel> back = sd::IntentModel::Deserialize(bytes);
      REQUIRE(back.ok());
      CHECK(back->labels() == m->labels());
      CHECK(back->features() == m->features());
      CHECK(back->margin_scale() == m->margin_scale());
      for (const std::string text : {"my card still has not arrived", "reset the password",
                                     "refund", "hello there", "카드가 안 와요", ""}) {
        const sd::Prediction a = m->Predict(text);
        const sd::Prediction b = back->Predict(text);
        CHECK(a.label == b.label);
        CHECK(a.confidence == b.confidence);
      }
      CHECK(back->Serialize() == bytes);
      CHECK_FALSE(sd::IntentModel::Deserialize(bytes.substr(0, bytes.size() - 1)).ok());
      CHECK_FALSE(sd::IntentModel::Deserialize(bytes + "x").ok());
      CHECK_FALSE(sd::IntentModel::Deserialize(bytes.substr(0, 40)).ok());
    }
  }
  CHECK_FALSE(sd::IntentModel::Deserialize("").ok());
  CHECK_FALSE(sd::IntentModel::Deserialize("crm-intent-model/2\n").ok());
}

TEST_CASE("calibration fits the confidence's scale on held-out texts", "[service_desk]") {
  absl::StatusOr<sd::IntentModel> m = sd::IntentModel::Train(Examples(), {});
  REQUIRE(m.ok());
  CHECK(m->margin_scale() == 0);
  m->Calibrate({{"card did not arrive", "card_arrival"},
                {"refund please", "refund"},
                {"new password", "password"},
                {"unseen label text", "other"}});
  CHECK(m->margin_scale() > 0);
}

TEST_CASE("accuracy, macro-F1 and per-class precision and recall", "[service_desk]") {
  const std::vector<std::string> truth = {"a", "a", "b", "b"};
  const std::vector<sd::Prediction> p = {{"a", 0.9}, {"b", 0.6}, {"b", 0.8}, {"b", 0.7}};
  const sd::EvalReport r = sd::Evaluate(truth, p);
  CHECK(r.accuracy == Approx(0.75));
  REQUIRE(r.classes.size() == 2);
  CHECK(r.classes[0].label == "a");
  CHECK(r.classes[0].precision == Approx(1.0));
  CHECK(r.classes[0].recall == Approx(0.5));
  CHECK(r.classes[1].precision == Approx(2.0 / 3));
  CHECK(r.classes[1].recall == Approx(1.0));
  CHECK(r.macro_f1 == Approx((2.0 / 3 + 0.8) / 2));
}

TEST_CASE("the threshold for a precision target answers as much as it can", "[service_desk]") {
  const std::vector<std::string> truth = {"a", "a", "a", "b", "b"};
  // By confidence: right .95, right .9, wrong .8, right .7, right .6.
  const std::vector<sd::Prediction> p = {
      {"a", 0.95}, {"a", 0.9}, {"b", 0.8}, {"b", 0.7}, {"b", 0.6}};
  const sd::Threshold t = sd::ThresholdFor(truth, p, 0.8);
  REQUIRE(t.reached);
  CHECK(t.threshold == Approx(0.6));  // 4 of 5 right: 0.8 precision, everything answered
  CHECK(t.coverage == Approx(1.0));
  const sd::Threshold strict = sd::ThresholdFor(truth, p, 1.0);
  CHECK(strict.threshold == Approx(0.9));
  CHECK(strict.coverage == Approx(0.4));
  const sd::Threshold at = sd::At(truth, p, 0.75);
  CHECK(at.precision == Approx(2.0 / 3));
  CHECK(at.coverage == Approx(0.6));
  CHECK_FALSE(sd::ThresholdFor({"a"}, {{"b", 0.9}}, 0.5).reached);
}

TEST_CASE("CSV fields may be quoted, hold commas, quotes and line breaks", "[service_desk]") {
  auto rows = sd::ParseCsv("text,category\n\"Hi, \"\"you\"\"\nthere\",greet\r\nplain,x\n");
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 3);
  CHECK((*rows)[1] == std::vector<std::string>{"Hi, \"you\"\nthere", "greet"});
  CHECK((*rows)[2] == std::vector<std::string>{"plain", "x"});
  CHECK_FALSE(sd::ParseCsv("\"open,x\n").ok());
}

// Classifiers on tickets (ticket_classifier.h): examples read from NDJSON
// with each bad line named, training with its held-out report, and the
// prediction that fills a field only in mode auto and when it knows.
namespace {

std::string Ndjson(const std::vector<sd::LabelledText>& examples) {
  std::string out;
  for (const sd::LabelledText& e : examples) {
    out += "{\"text\": \"" + e.text + "\", \"label\": \"" + e.label + "\"}\n";
  }
  return out;
}

std::vector<sd::LabelledText> Many() {
  std::vector<sd::LabelledText> out;
  for (int round = 0; round < 4; ++round) {
    for (sd::LabelledText e : Examples()) {
      e.text += " " + std::to_string(round);
      out.push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("examples come as NDJSON, each bad line named", "[service_desk][classifier]") {
  const std::string good = Ndjson(Many());
  auto parsed = sd::ParseExamples(good + "\n\n");
  REQUIRE(parsed.ok());
  CHECK(parsed->size() == Many().size());
  CHECK(parsed->front().label == "card_arrival");
  const auto field_of = [](const std::string& body) {
    return crm::common::FieldOf(sd::ParseExamples(body).status());
  };
  const auto message_of = [](const std::string& body) {
    return std::string(sd::ParseExamples(body).status().message());
  };
  CHECK(field_of(good + "not json\n") == "examples");
  CHECK(message_of(good + "not json\n").find("line 73") != std::string::npos);
  CHECK(field_of(good + "{\"text\": \"x\", \"label\": \"a\", \"extra\": \"y\"}") == "examples");
  CHECK(field_of(good + "{\"text\": \"x\", \"label\": 3}") == "examples");
  CHECK(field_of(good + "{\"text\": \"  \", \"label\": \"a\"}") == "examples");
  CHECK(field_of(good + "{\"text\": \"x\", \"label\": \"" + std::string(65, 'a') + "\"}") ==
        "examples");
  CHECK(field_of("{\"text\": \"x\", \"label\": \"a\"}\n") == "examples");  // too few
  std::string one_label;
  for (int i = 0; i < 12; ++i) one_label += "{\"text\": \"t\", \"label\": \"only\"}\n";
  CHECK(message_of(one_label).find("2..1000 labels") != std::string::npos);
  // Labels are trimmed.
  auto trimmed = sd::ParseExamples(std::string("{\"text\": \"x\", \"label\": \" a \"}\n") + good);
  REQUIRE(trimmed.ok());
  CHECK(trimmed->front().label == "a");
}

TEST_CASE("a classifier trains, reports on held-out texts and predicts per mode",
          "[service_desk][classifier]") {
  auto trained = sd::TrainClassifier(Many(), 0.9);
  REQUIRE(trained.ok());
  const sd::ClassifierReport& r = trained->report;
  CHECK(r.examples == 72);
  CHECK(r.held_out == 7);
  CHECK(r.labels == 3);
  CHECK(r.features > 100);
  CHECK(r.accuracy > 0.8);
  CHECK(r.macro_f1 > 0.5);
  CHECK(r.precision_target == 0.9);
  CHECK(r.classes.size() == 3);
  CHECK(r.threshold.reached);
  CHECK_FALSE(sd::TrainClassifier(Many(), 0).ok());
  CHECK_FALSE(sd::TrainClassifier(Many(), 1.5).ok());

  sd::Classifier c;
  c.target = sd::ClassifierTarget::kQueue;
  c.mode = sd::ClassifierMode::kSuggest;
  c.report = r;
  c.version = 3;
  sd::Ticket t;
  sd::TicketPrediction p =
      sd::PredictFor(c, trained->model, sd::TicketText("My card", "still has not arrived"));
  CHECK(p.label == "card_arrival");
  CHECK(p.version == 3);
  CHECK(p.answered == (p.confidence >= r.threshold.threshold));
  p.answered = true;
  sd::ApplyPrediction(c, p, t);  // suggest: kept, not applied
  CHECK(t.queue.empty());
  CHECK_FALSE(p.applied);
  c.mode = sd::ClassifierMode::kAuto;
  t.queue = "manual";
  sd::ApplyPrediction(c, p, t);  // the creator's queue stays
  CHECK(t.queue == "manual");
  t.queue.clear();
  sd::ApplyPrediction(c, p, t);
  CHECK(t.queue == "card_arrival");
  CHECK(p.applied);
  sd::TicketPrediction unsure = p;
  unsure.answered = false;
  unsure.applied = false;
  t.type.clear();
  c.target = sd::ClassifierTarget::kType;
  sd::ApplyPrediction(c, unsure, t);  // it does not know: nothing filled
  CHECK(t.type.empty());
  c.target = sd::ClassifierTarget::kIntent;
  sd::ApplyPrediction(c, p, t);  // an intent has no field
  CHECK(sd::AnsweredLabel({p, unsure}, sd::ClassifierTarget::kQueue) == "card_arrival");
  CHECK(sd::AnsweredLabel({unsure}, sd::ClassifierTarget::kQueue).empty());
  CHECK(sd::AnsweredLabel({p}, sd::ClassifierTarget::kIntent).empty());

  // A threshold the held-out texts never reach: the classifier never knows.
  c.report.threshold.reached = false;
  CHECK_FALSE(sd::PredictFor(c, trained->model, "my card has not arrived").answered);
}

TEST_CASE("texts from tickets are checked the same way, cut and trimmed",
          "[service_desk][classifier]") {
  std::vector<sd::LabelledText> from_tickets = Many();
  from_tickets.push_back({"   ", "refund"});                         // no text: left out
  from_tickets.push_back({std::string(12'000, 'x'), " password "});  // cut, trimmed
  REQUIRE(sd::CheckExamples(from_tickets).ok());
  CHECK(from_tickets.size() == Many().size() + 1);
  CHECK(from_tickets.back().text.size() == sd::kMaxExampleText);
  CHECK(from_tickets.back().label == "password");
  std::vector<sd::LabelledText> few = {{"a", "x"}, {"b", "y"}};
  CHECK(crm::common::FieldOf(sd::CheckExamples(few)) == "examples");
  CHECK(sd::TargetFromName("queue") == sd::ClassifierTarget::kQueue);
  CHECK_FALSE(sd::TargetFromName("Queue").has_value());
  CHECK(sd::ModeFromName("auto") == sd::ClassifierMode::kAuto);
  CHECK(std::string(sd::ModeName(sd::ClassifierMode::kSuggest)) == "suggest");
}
