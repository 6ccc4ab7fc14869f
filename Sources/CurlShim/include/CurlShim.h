#ifndef DETOUR_CURLSHIM_H
#define DETOUR_CURLSHIM_H
#include <curl/curl.h>

/*
 * Typed, non-variadic wrappers around libcurl's variadic calls (curl_easy_setopt,
 * curl_easy_getinfo, curl_multi_setopt), which Swift cannot call directly.
 * Each returns libcurl's own result code unchanged.
 */

/* Runs curl_global_init(CURL_GLOBAL_DEFAULT) exactly once per process, thread-safely.
   Returns the result of that one call on every call. */
CURLcode detour_curl_global_init_once(void);

/* curl_easy_setopt, one per argument type. */
CURLcode detour_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode detour_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
CURLcode detour_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode detour_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode detour_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);

/* curl_easy_setopt for callbacks. Write and header callbacks share one prototype. */
CURLcode detour_curl_setopt_write_function(CURL *handle, CURLoption option, curl_write_callback callback);
CURLcode detour_curl_setopt_read_function(CURL *handle, curl_read_callback callback);
CURLcode detour_curl_setopt_debug_function(CURL *handle, curl_debug_callback callback);
CURLcode detour_curl_setopt_xferinfo_function(CURL *handle, curl_xferinfo_callback callback);
CURLcode detour_curl_setopt_prereq_function(CURL *handle, curl_prereq_callback callback);

/* curl_easy_getinfo, one per result type. */
CURLcode detour_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode detour_curl_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value);
CURLcode detour_curl_getinfo_double(CURL *handle, CURLINFO info, double *value);
/* The string stays owned by the handle; copy it before the next transfer or cleanup. */
CURLcode detour_curl_getinfo_string(CURL *handle, CURLINFO info, const char **value);
CURLcode detour_curl_getinfo_socket(CURL *handle, CURLINFO info, curl_socket_t *value);

/* curl_multi_setopt for long values. */
CURLMcode detour_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

/* Return codes for callbacks, as plain constants (the macros are not all importable). */
static const size_t DETOUR_CURL_READFUNC_ABORT = CURL_READFUNC_ABORT;
static const int DETOUR_CURL_PREREQFUNC_OK = CURL_PREREQFUNC_OK;
static const int DETOUR_CURL_PREREQFUNC_ABORT = CURL_PREREQFUNC_ABORT;

#endif
