// Probe (not part of the build): does an HTTP.SYS request queue created by one process work
// in another process that received it with DuplicateHandle? Under wine 8 named queues
// opened by a second process are not implemented, so this is the only way a master-owned
// queue can reach a worker there.
//   httpsys_dup_probe.exe master URL [v1|v2]   creates the queue, binds URL, starts itself
//                                              as "child", duplicates the queue into it
//   (child reads the handle value from a file the master writes after duplicating)
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <http.h>
#include <cstdio>
#include <cstdlib>
#include <string>

static int serve(HANDLE queue, const char* who, int count) {
  for (int i = 0; i < count; ++i) {
    alignas(8) char buffer[16384];
    auto* req = reinterpret_cast<HTTP_REQUEST*>(buffer);
    ULONG got = 0;
    ULONG rc = HttpReceiveHttpRequest(queue, HTTP_NULL_ID, 0, req, sizeof buffer, &got, nullptr);
    std::printf("%s: receive rc=%lu url=%s\n", who, rc, rc == NO_ERROR ? req->pRawUrl : "-");
    std::fflush(stdout);
    if (rc != NO_ERROR) return 1;
    HTTP_RESPONSE res{};
    res.StatusCode = 200;
    res.pReason = "OK";
    res.ReasonLength = 2;
    std::string body = std::string(who) + " pid " + std::to_string(GetCurrentProcessId()) + "\n";
    HTTP_DATA_CHUNK chunk{};
    chunk.DataChunkType = HttpDataChunkFromMemory;
    chunk.FromMemory.pBuffer = body.data();
    chunk.FromMemory.BufferLength = static_cast<ULONG>(body.size());
    res.EntityChunkCount = 1;
    res.pEntityChunks = &chunk;
    ULONG sent = 0;
    rc = HttpSendHttpResponse(queue, req->RequestId, 0, &res, nullptr, &sent, nullptr, 0, nullptr, nullptr);
    std::printf("%s: send rc=%lu\n", who, rc);
    std::fflush(stdout);
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  std::string mode = argv[1];
  if (mode == "child") {
    std::string file = argv[2];
    unsigned long long value = 0;
    for (int i = 0; i < 200 && value == 0; ++i) {
      if (FILE* f = std::fopen(file.c_str(), "r")) { std::fscanf(f, "%llu", &value); std::fclose(f); }
      if (value == 0) Sleep(50);
    }
    std::printf("child: handle %llu\n", value);
    return serve(reinterpret_cast<HANDLE>(static_cast<uintptr_t>(value)), "child", 2);
  }
  std::string url = argv[2];
  bool v2 = argc < 4 || std::string(argv[3]) == "v2";
  std::wstring wurl(url.begin(), url.end());
  HTTPAPI_VERSION version = v2 ? HTTPAPI_VERSION{2, 0} : HTTPAPI_VERSION{1, 0};
  // Under wine the HTTP service starts on demand, and while wine's services are still
  // booting StartService answers ERROR_SERVICE_DATABASE_LOCKED (1055) or times out (1053).
  ULONG rc = 0;
  for (int attempt = 0; attempt < 60; ++attempt) {
    rc = HttpInitialize(version, HTTP_INITIALIZE_SERVER, nullptr);
    std::printf("master: HttpInitialize rc=%lu\n", rc);
    std::fflush(stdout);
    if (rc != ERROR_SERVICE_DATABASE_LOCKED && rc != ERROR_SERVICE_REQUEST_TIMEOUT) break;
    Sleep(1000);
  }
  HANDLE queue = nullptr;
  if (v2) {
    HTTP_SERVER_SESSION_ID session = 0;
    rc = HttpCreateServerSession(version, &session, 0);
    std::printf("master: HttpCreateServerSession rc=%lu\n", rc);
    HTTP_URL_GROUP_ID group = 0;
    rc = HttpCreateUrlGroup(session, &group, 0);
    std::printf("master: HttpCreateUrlGroup rc=%lu\n", rc);
    rc = HttpCreateRequestQueue(version, nullptr, nullptr, 0, &queue);
    std::printf("master: HttpCreateRequestQueue rc=%lu\n", rc);
    HTTP_BINDING_INFO binding{};
    binding.Flags.Present = 1;
    binding.RequestQueueHandle = queue;
    rc = HttpSetUrlGroupProperty(group, HttpServerBindingProperty, &binding, sizeof binding);
    std::printf("master: HttpSetUrlGroupProperty rc=%lu\n", rc);
    rc = HttpAddUrlToUrlGroup(group, wurl.c_str(), 0, 0);
    std::printf("master: HttpAddUrlToUrlGroup rc=%lu\n", rc);
  } else {
    rc = HttpCreateHttpHandle(&queue, 0);
    std::printf("master: HttpCreateHttpHandle rc=%lu\n", rc);
    rc = HttpAddUrl(queue, wurl.c_str(), nullptr);
    std::printf("master: HttpAddUrl rc=%lu\n", rc);
  }
  std::fflush(stdout);
  char self[MAX_PATH];
  GetModuleFileNameA(nullptr, self, MAX_PATH);
  std::string file = std::string("probe-handle-") + std::to_string(GetCurrentProcessId()) + ".txt";
  std::string cmd = std::string("\"") + self + "\" child " + file;
  STARTUPINFOA si{};
  si.cb = sizeof si;
  PROCESS_INFORMATION pi{};
  if (!CreateProcessA(nullptr, cmd.data(), nullptr, nullptr, FALSE, 0, nullptr, nullptr, &si, &pi)) {
    std::printf("master: CreateProcess failed %lu\n", GetLastError());
    return 1;
  }
  HANDLE in_child = nullptr;
  BOOL ok = DuplicateHandle(GetCurrentProcess(), queue, pi.hProcess, &in_child, 0, FALSE, DUPLICATE_SAME_ACCESS);
  std::printf("master: DuplicateHandle ok=%d err=%lu value=%llu\n", ok, ok ? 0 : GetLastError(),
              static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(in_child)));
  std::fflush(stdout);
  std::string tmp = file + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  std::fprintf(f, "%llu\n", static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(in_child)));
  std::fclose(f);
  MoveFileA(tmp.c_str(), file.c_str());
  WaitForSingleObject(pi.hProcess, INFINITE);
  DWORD code = 0;
  GetExitCodeProcess(pi.hProcess, &code);
  std::printf("master: child exited %lu; master now serves 1 itself (queue still alive?)\n", code);
  std::fflush(stdout);
  DeleteFileA(file.c_str());
  return serve(queue, "master", 1);
}
