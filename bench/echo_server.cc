// crm-bench-echo: the bare gRPC ceiling for the benchmarks.
//
// A C++ callback server with one generic service that answers EVERY unary
// call (any method path) with the same fixed response bytes, without parsing
// the request. Run it next to the real services and divide their req/s by its
// req/s (measured in the same run, on the same cores): that ratio is what the
// service's own work costs, independent of how fast this machine is today.
//
//   crm-bench-echo --port P [--response-file F | --response-bytes N] [--max-seconds S]
//
// --response-file  the exact serialized response to send (the bench script
//                  captures a real CustomerView so both carry the same bytes)
// --response-bytes N zero-filled bytes instead (default 512)
// --max-seconds    exit by itself after S seconds (default 3600) so a lost
//                  bench never leaves it running forever
// Listens on 127.0.0.1 only; stops on SIGTERM/SIGINT.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/server_callback.h>

namespace {

class EchoReactor final : public grpc::ServerGenericBidiReactor {
 public:
  explicit EchoReactor(const grpc::ByteBuffer& response) : response_(response) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message"));
      return;
    }
    StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
  }

  void OnDone() override { delete this; }
  void OnCancel() override {}

 private:
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;  // shares the slices of the service's buffer
};

class EchoService final : public grpc::CallbackGenericService {
 public:
  explicit EchoService(const std::string& bytes) {
    grpc::Slice slice(bytes.data(), bytes.size());
    response_ = grpc::ByteBuffer(&slice, 1);
  }
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext*) override {
    return new EchoReactor(response_);
  }

 private:
  grpc::ByteBuffer response_;
};

int Usage() {
  std::cerr << "usage: crm-bench-echo --port P [--response-file F | --response-bytes N]"
               " [--max-seconds S]\n";
  return 2;
}

bool ParseInt(const char* s, long lo, long hi, long* out) {
  char* end = nullptr;
  long v = std::strtol(s, &end, 10);
  if (end == s || *end != '\0' || v < lo || v > hi) return false;
  *out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  long port = 0, response_bytes = 512, max_seconds = 3600;
  std::string response_file;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (!std::strcmp(argv[i], "--port") && has_value) {
      if (!ParseInt(argv[++i], 1, 65535, &port)) return Usage();
    } else if (!std::strcmp(argv[i], "--response-file") && has_value) {
      response_file = argv[++i];
    } else if (!std::strcmp(argv[i], "--response-bytes") && has_value) {
      if (!ParseInt(argv[++i], 0, 16 << 20, &response_bytes)) return Usage();
    } else if (!std::strcmp(argv[i], "--max-seconds") && has_value) {
      if (!ParseInt(argv[++i], 1, 86400, &max_seconds)) return Usage();
    } else {
      return Usage();
    }
  }
  if (port == 0) return Usage();

  std::string response(static_cast<size_t>(response_bytes), '\0');
  if (!response_file.empty()) {
    std::ifstream in(response_file, std::ios::binary);
    if (!in) {
      std::cerr << "crm-bench-echo: cannot read " << response_file << "\n";
      return 1;
    }
    response.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  // Block the stop signals before any gRPC thread exists, so only sigwait sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGALRM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  EchoService service(response);
  grpc::ServerBuilder builder;
  int bound_port = 0;
  const std::string address = "127.0.0.1:" + std::to_string(port);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &bound_port);
  builder.RegisterCallbackGenericService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_port == 0) {
    std::cerr << "crm-bench-echo: cannot listen on " << address << "\n";
    return 1;
  }
  std::cout << "crm-bench-echo listening on " << address << ", response " << response.size()
            << " bytes" << std::endl;

  alarm(static_cast<unsigned>(max_seconds));
  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::cout << "crm-bench-echo: " << (sig == SIGALRM ? "max-seconds reached" : "signal")
            << ", stopping" << std::endl;
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server->Wait();
  return 0;
}
