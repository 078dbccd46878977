// The JSON-lines log: info lines are batched, a warning writes them first.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "libs/observability/log.h"

namespace {

// Points stderr at a temporary file for the scope; Text() reads it.
class CapturedStderr {
 public:
  CapturedStderr() {
    char path[] = "/tmp/crm-log-test-XXXXXX";
    fd_ = mkstemp(path);
    path_ = path;
    saved_ = dup(STDERR_FILENO);
    dup2(fd_, STDERR_FILENO);
  }
  ~CapturedStderr() {
    crm::observability::FlushLogs();
    dup2(saved_, STDERR_FILENO);
    close(saved_);
    close(fd_);
    unlink(path_.c_str());
  }
  std::string Text() const {
    std::ifstream in(path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  int fd_ = -1;
  int saved_ = -1;
  std::string path_;
};

}  // namespace

TEST_CASE("A warning writes the buffered info lines before itself, in order", "[log]") {
  CapturedStderr err;
  crm::observability::FlushLogs();
  CRM_LOG(Info) << "first-info-line";
  CRM_LOG(Info) << "second-info-line";
  CRM_LOG(Warning) << "the-warning";
  const std::string text = err.Text();
  const size_t one = text.find("first-info-line");
  const size_t two = text.find("second-info-line");
  const size_t three = text.find("the-warning");
  REQUIRE(one != std::string::npos);
  REQUIRE(two != std::string::npos);
  REQUIRE(three != std::string::npos);
  CHECK(one < two);
  CHECK(two < three);
  CHECK(text.find("\"severity\":\"WARNING\"") != std::string::npos);
}

TEST_CASE("FlushLogs writes buffered info lines as whole JSON lines", "[log]") {
  CapturedStderr err;
  for (int i = 0; i < 50; ++i) CRM_LOG(Info).Field("n", i) << "batched";
  crm::observability::FlushLogs();
  const std::string text = err.Text();
  int lines = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"message\":\"batched\"") == std::string::npos) continue;
    ++lines;
    CHECK(line.front() == '{');
    CHECK(line.back() == '}');
  }
  CHECK(lines == 50);
}
