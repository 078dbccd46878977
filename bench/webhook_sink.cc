// crm-bench-webhook-sink: the webhook receiver of delivery_bench.sh.
//
// An HTTP/1.1 server (Boost.Beast, a thread per connection, keep-alive) that
// answers every POST with 200 "ok" and counts it, and answers GET /count
// with the number of POSTs so far and the number of distinct
// Idempotency-Key values among them (a second copy of a message shows as a
// difference). Its own ceiling is measured with wrk in the same run.
//
//   crm-bench-webhook-sink --port P [--max-seconds S]
//
// Listens on 127.0.0.1 only; exits after S seconds (default 3600).
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

std::atomic<long long> posts{0};
std::mutex keys_mu;
std::unordered_set<std::string> keys;

void Serve(tcp::socket socket) {
  beast::error_code ec;
  beast::flat_buffer buffer;
  while (true) {
    http::request<http::string_body> req;
    http::read(socket, buffer, req, ec);
    if (ec) break;
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "text/plain");
    res.keep_alive(req.keep_alive());
    if (req.method() == http::verb::post) {
      posts.fetch_add(1, std::memory_order_relaxed);
      auto key = req.find("Idempotency-Key");
      if (key != req.end()) {
        std::lock_guard<std::mutex> lock(keys_mu);
        keys.insert(std::string(key->value()));
      }
      res.body() = "ok";
    } else {
      std::lock_guard<std::mutex> lock(keys_mu);
      res.body() = std::to_string(posts.load()) + " " + std::to_string(keys.size()) + "\n";
    }
    res.prepare_payload();
    http::write(socket, res, ec);
    if (ec || !req.keep_alive()) break;
  }
  socket.shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  int max_seconds = 3600;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--port") == 0) port = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--max-seconds") == 0) max_seconds = std::atoi(argv[i + 1]);
  }
  if (port <= 0) {
    std::cerr << "usage: crm-bench-webhook-sink --port P [--max-seconds S]\n";
    return 2;
  }
  std::thread([max_seconds] {
    std::this_thread::sleep_for(std::chrono::seconds(max_seconds));
    std::_Exit(0);
  }).detach();
  boost::asio::io_context io;
  tcp::acceptor acceptor(
      io, {boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  std::cout << "webhook sink on 127.0.0.1:" << port << std::endl;
  while (true) {
    tcp::socket socket(io);
    acceptor.accept(socket);
    std::thread(Serve, std::move(socket)).detach();
  }
}
