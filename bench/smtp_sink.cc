// crm-bench-smtp-sink: the SMTP server of delivery_bench.sh, and its own
// ceiling.
//
// Server mode: an SMTP server (RFC 5321's subset a sender needs: EHLO/HELO,
// MAIL, RCPT, DATA, RSET, NOOP, QUIT; no STARTTLS, no AUTH) on 127.0.0.1,
// a thread per connection, that accepts every mail, counts it and the
// distinct X-CRM-Message-Id headers among them (a second copy of a message
// shows as a difference), and answers the extra command XCOUNT with
// "250 <mails> <distinct ids>". With --save-first FILE the first mail's
// data is written to FILE (the blast sends that same mail).
//
//   crm-bench-smtp-sink --port P [--max-seconds S] [--save-first FILE]
//
// Blast mode: C connections to the sink, each sending mails one after the
// other (MAIL, RCPT, DATA, the mail, each answer awaited: what one sender
// does, without a new connection per mail) for S seconds; prints
// "mails=N seconds=T rate=R".
//
//   crm-bench-smtp-sink --blast --port P --connections C --seconds S --mail FILE
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <istream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::atomic<long long> mails{0};
std::mutex ids_mu;
std::unordered_set<std::string> ids;
std::string save_first;
std::atomic<bool> saved{false};

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// One line without its CRLF; false at the end of the connection.
bool ReadLine(tcp::socket& socket, asio::streambuf& buf, std::string& line) {
  boost::system::error_code ec;
  asio::read_until(socket, buf, "\r\n", ec);
  if (ec) return false;
  std::istream in(&buf);
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

bool Say(tcp::socket& socket, const std::string& text) {
  boost::system::error_code ec;
  asio::write(socket, asio::buffer(text), ec);
  return !ec;
}

void Serve(tcp::socket socket) {
  asio::streambuf buf;
  std::string line;
  if (!Say(socket, "220 crm-bench-smtp-sink ESMTP\r\n")) return;
  while (ReadLine(socket, buf, line)) {
    const std::string verb = Upper(line.substr(0, 4));
    if (verb == "EHLO") {
      if (!Say(socket, "250-crm-bench-smtp-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")) return;
    } else if (verb == "HELO" || verb == "MAIL" || verb == "RCPT" || verb == "RSET" ||
               verb == "NOOP") {
      if (!Say(socket, "250 OK\r\n")) return;
    } else if (verb == "QUIT") {
      Say(socket, "221 bye\r\n");
      return;
    } else if (Upper(line) == "XCOUNT") {
      std::lock_guard<std::mutex> lock(ids_mu);
      if (!Say(socket,
               "250 " + std::to_string(mails.load()) + " " + std::to_string(ids.size()) + "\r\n")) {
        return;
      }
    } else if (verb == "DATA") {
      if (!Say(socket, "354 end with <CRLF>.<CRLF>\r\n")) return;
      std::string data, id;
      bool in_headers = true;
      while (true) {
        if (!ReadLine(socket, buf, line)) return;
        if (line == ".") break;
        if (line.size() > 1 && line[0] == '.') line.erase(0, 1);  // dot-stuffing
        if (in_headers) {
          if (line.empty()) in_headers = false;
          static const std::string kHeader = "x-crm-message-id:";
          if (line.size() > kHeader.size()) {
            std::string name = line.substr(0, kHeader.size());
            for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (name == kHeader) {
              id = line.substr(kHeader.size());
              while (!id.empty() && id.front() == ' ') id.erase(0, 1);
            }
          }
        }
        if (!save_first.empty() && !saved.load()) data += line + "\r\n";
      }
      mails.fetch_add(1, std::memory_order_relaxed);
      if (!id.empty()) {
        std::lock_guard<std::mutex> lock(ids_mu);
        ids.insert(id);
      }
      if (!save_first.empty() && !saved.exchange(true)) {
        std::ofstream(save_first, std::ios::binary) << data;
      }
      if (!Say(socket, "250 OK queued\r\n")) return;
    } else {
      // What a sender must not need here (AUTH, STARTTLS, VRFY, ...):
      // SMTP's "command not recognized" reply (RFC 5321, 4.2.4).
      if (!Say(socket, "500 command not recognized\r\n")) return;
    }
  }
}

// Reads one reply (its last line: "250 ..." rather than "250-...").
bool Reply(tcp::socket& socket, asio::streambuf& buf, char expect) {
  std::string line;
  do {
    if (!ReadLine(socket, buf, line)) return false;
  } while (line.size() > 3 && line[3] == '-');
  return !line.empty() && line[0] == expect;
}

int Blast(int port, int connections, double seconds, const std::string& mail_file) {
  std::ifstream f(mail_file, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string mail = ss.str();
  if (mail.empty()) {
    std::cerr << "empty mail file " << mail_file << "\n";
    return 2;
  }
  // Dot-stuffing: a line that starts with "." gets another.
  std::string stuffed;
  size_t at = 0;
  while (at < mail.size()) {
    size_t end = mail.find("\r\n", at);
    if (end == std::string::npos) end = mail.size();
    std::string line = mail.substr(at, end - at);
    if (!line.empty() && line[0] == '.') stuffed += '.';
    stuffed += line + "\r\n";
    at = end + 2;
  }
  stuffed += ".\r\n";
  std::atomic<long long> sent{0};
  std::atomic<bool> failed{false};
  const auto start = std::chrono::steady_clock::now();
  const auto stop = start + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&] {
      try {
        asio::io_context io;
        tcp::socket socket(io);
        socket.connect(
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
        asio::streambuf buf;
        if (!Reply(socket, buf, '2') || !Say(socket, "EHLO blast\r\n") ||
            !Reply(socket, buf, '2')) {
          failed = true;
          return;
        }
        while (std::chrono::steady_clock::now() < stop) {
          if (!Say(socket, "MAIL FROM:<blast@bench.example>\r\n") || !Reply(socket, buf, '2') ||
              !Say(socket, "RCPT TO:<b1@bench-delivery.example>\r\n") || !Reply(socket, buf, '2') ||
              !Say(socket, "DATA\r\n") || !Reply(socket, buf, '3') || !Say(socket, stuffed) ||
              !Reply(socket, buf, '2')) {
            failed = true;
            return;
          }
          sent.fetch_add(1, std::memory_order_relaxed);
        }
        Say(socket, "QUIT\r\n");
      } catch (const std::exception& e) {
        std::cerr << "blast: " << e.what() << "\n";
        failed = true;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "mails=" << sent.load() << " seconds=" << took
            << " rate=" << static_cast<long long>(static_cast<double>(sent.load()) / took) << "\n";
  return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  int max_seconds = 3600;
  bool blast = false;
  int connections = 32;
  double seconds = 5;
  std::string mail_file;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--port") {
      port = std::atoi(next().c_str());
    } else if (a == "--max-seconds") {
      max_seconds = std::atoi(next().c_str());
    } else if (a == "--save-first") {
      save_first = next();
    } else if (a == "--blast") {
      blast = true;
    } else if (a == "--connections") {
      connections = std::atoi(next().c_str());
    } else if (a == "--seconds") {
      seconds = std::atof(next().c_str());
    } else if (a == "--mail") {
      mail_file = next();
    } else {
      std::cerr << "unknown argument " << a << "\n";
      return 2;
    }
  }
  if (port <= 0 || port > 65535 || connections < 1 || connections > 1024) {
    std::cerr << "usage: crm-bench-smtp-sink --port P [--max-seconds S] [--save-first FILE]\n"
                 "       crm-bench-smtp-sink --blast --port P --connections C --seconds S "
                 "--mail FILE\n";
    return 2;
  }
  if (blast) return Blast(port, connections, seconds, mail_file);
  std::thread([max_seconds] {
    std::this_thread::sleep_for(std::chrono::seconds(max_seconds));
    std::_Exit(0);
  }).detach();
  asio::io_context io;
  tcp::acceptor acceptor(
      io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  std::cout << "listening on 127.0.0.1:" << port << std::endl;
  while (true) {
    tcp::socket socket(io);
    boost::system::error_code ec;
    acceptor.accept(socket, ec);
    if (ec) continue;
    std::thread(Serve, std::move(socket)).detach();
  }
}
