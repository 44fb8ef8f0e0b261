/*
 * plist_dtd_check.c - validates XML property lists against Apple's plist
 * DTD, offline.
 *
 * usage: plist_dtd_check DTD FILE...
 *
 *   DTD    a local copy of Apple's DTD (tests/tools/PropertyList-1.0.dtd)
 *   FILE   one or more XML plists, such as .mobileconfig profiles
 *
 * Each FILE must be well-formed XML, declare
 * <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" ...>, have a <plist>
 * root (version "1.0" if given), declare nothing in an internal subset
 * and be valid against DTD.
 *
 * The network is never used: the DOCTYPE's system identifier points at
 * apple.com, but documents are read with XML_PARSE_NONET and without
 * XML_PARSE_DTDLOAD (so the external subset is never loaded), entities are
 * not substituted, the external entity loader refuses every network URL,
 * and validation uses only the DTD file named on the command line.
 *
 * Silent on success. Every problem is printed on standard error as
 * "FILE:LINE: reason" (or "FILE: reason").
 * Exit status: 0 every FILE is valid; 1 at least one FILE is not;
 * 2 usage error or the DTD cannot be read.
 *
 * Built by `make golden` as build/tests/plist_dtd_check (libxml2 only).
 */
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlerror.h>

#define PLIST_PUBLIC_ID "-//Apple//DTD PLIST 1.0//EN"

struct report {
	const char *file;   /* the FILE being checked, for messages */
	unsigned errors;    /* libxml2 errors and warnings seen for it */
};

/* Prints one libxml2 error (parser or validity) as FILE:LINE: message. */
static void on_xml_error(void *ctx, xmlErrorPtr err)
{
	struct report *r = ctx;
	const char *msg = err && err->message ? err->message : "unknown libxml2 error\n";
	size_t n = strlen(msg);

	r->errors++;
	if (n && msg[n - 1] == '\n')
		n--;
	if (err && err->line > 0)
		fprintf(stderr, "%s:%d: %.*s\n", r->file, err->line, (int)n, msg);
	else
		fprintf(stderr, "%s: %.*s\n", r->file, (int)n, msg);
}

static int fail(const char *file, const char *reason)
{
	fprintf(stderr, "%s: %s\n", file, reason);
	return 1;
}

/* Returns 0 if path is a valid plist, else 1 (after printing why). */
static int check_file(xmlDtdPtr dtd, const char *path)
{
	struct report r = { path, 0 };
	int rc = 0;

	xmlSetStructuredErrorFunc(&r, on_xml_error);
	xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
	if (!doc) {
		if (!r.errors)
			fail(path, "cannot read or parse the file");
		xmlSetStructuredErrorFunc(NULL, NULL);
		return 1;
	}
	if (r.errors)
		rc = 1;   /* warnings while parsing: treat as failure */

	xmlDtdPtr decl = xmlGetIntSubset(doc);
	if (!decl || !decl->name || strcmp((const char *)decl->name, "plist") != 0)
		rc = fail(path, "no <!DOCTYPE plist ...> declaration");
	else if (!decl->ExternalID || strcmp((const char *)decl->ExternalID, PLIST_PUBLIC_ID) != 0)
		rc = fail(path, "the DOCTYPE does not name the public identifier \"" PLIST_PUBLIC_ID "\"");
	else if (decl->children)
		rc = fail(path, "the DOCTYPE has an internal subset (a plist declares nothing itself)");

	xmlNodePtr root = xmlDocGetRootElement(doc);
	if (!root || strcmp((const char *)root->name, "plist") != 0) {
		rc = fail(path, "the root element is not <plist>");
	} else {
		xmlChar *version = xmlGetProp(root, (const xmlChar *)"version");
		if (version && strcmp((const char *)version, "1.0") != 0)
			rc = fail(path, "<plist> has a version other than \"1.0\"");
		xmlFree(version);
	}

	xmlValidCtxtPtr vctxt = xmlNewValidCtxt();
	if (!vctxt) {
		rc = fail(path, "out of memory");
	} else {
		unsigned before = r.errors;
		if (xmlValidateDtd(vctxt, doc, dtd) != 1 || r.errors != before) {
			if (r.errors == before)
				fail(path, "not valid against the plist DTD");
			rc = 1;
		}
		xmlFreeValidCtxt(vctxt);
	}
	xmlFreeDoc(doc);
	xmlSetStructuredErrorFunc(NULL, NULL);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s DTD FILE...\n", argc ? argv[0] : "plist_dtd_check");
		return 2;
	}
	LIBXML_TEST_VERSION
	xmlSetExternalEntityLoader(xmlNoNetExternalEntityLoader);

	struct report r = { argv[1], 0 };
	xmlSetStructuredErrorFunc(&r, on_xml_error);
	xmlDtdPtr dtd = xmlParseDTD(NULL, (const xmlChar *)argv[1]);
	xmlSetStructuredErrorFunc(NULL, NULL);
	if (!dtd || r.errors) {
		fprintf(stderr, "%s: cannot read the DTD\n", argv[1]);
		if (dtd)
			xmlFreeDtd(dtd);
		return 2;
	}

	int rc = 0;
	for (int i = 2; i < argc; i++)
		rc |= check_file(dtd, argv[i]);
	xmlFreeDtd(dtd);
	xmlCleanupParser();
	return rc;
}
