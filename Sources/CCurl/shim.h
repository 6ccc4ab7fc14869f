#ifndef DETOUR_CCURL_SHIM_H
#define DETOUR_CCURL_SHIM_H
#include <curl/curl.h>
#endif
