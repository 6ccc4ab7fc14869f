#ifndef DETOUR_CURLSHIM_H
#define DETOUR_CURLSHIM_H
#include <curl/curl.h>
/* Typed, non-variadic wrappers around curl_easy_setopt / curl_easy_getinfo (filled in by DetourTransport work). */
CURLcode detour_curl_setopt_long(CURL *handle, CURLoption option, long value);
#endif
