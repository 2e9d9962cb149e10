/* guid — GUIDs as AD and Graph show them: the lowercase "D" text form, the .NET byte order
 * AD stores objectGUID in, and name-based (version 5) GUIDs for anchors a connector assigns.
 * Memory: nothing here allocates; callers pass buffers. */
#ifndef MVS_GUID_H
#define MVS_GUID_H

#include <stddef.h>

#define GUID_TEXT_LEN 36 /* "00112233-4455-6677-8899-aabbccddeeff" */

/* Parse the D form (any case, optionally in braces) into .NET byte order (first three groups
 * little-endian, as Guid.ToByteArray and AD's objectGUID).  Returns 0, or -1 when not a GUID. */
int guid_parse_ms(const char *s, size_t n, unsigned char out[16]);
/* The lowercase D form of 16 bytes in .NET order (StringFromGuid); out holds 37 bytes. */
void guid_format_ms(const unsigned char b[16], char out[37]);
/* A version 5 GUID (SHA-1 of mvsync's namespace and name, RFC 4122 §4.3) in lowercase D
 * form.  Returns 0, or -1 when the digest fails. */
int guid_v5(const void *name, size_t n, char out[37]);

#endif
