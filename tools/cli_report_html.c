/* cli_report_html — the self-contained HTML page of `mvsync report` (cli_report_html.h).
 * Memory: nothing is allocated; the caller owns the FILE. */
#include <stdio.h>
#include <string.h>

#include "tools/cli_report_html.h"

static const char page_css[] =
    "body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}\n"
    "header{background:#1f3a5f;color:#fff;padding:14px 24px}\n"
    "header h1{font-size:20px;margin:0 0 4px}\n"
    "header p{margin:0;opacity:.85}\n"
    "main{padding:12px 24px 40px;max-width:1400px}\n"
    "section{background:#fff;border:1px solid #d8dde3;border-radius:6px;margin:12px 0;padding:10px 16px}\n"
    "h2{font-size:16px;margin:4px 0 8px}\n"
    "table{border-collapse:collapse}\n"
    "th,td{text-align:left;padding:3px 10px;border-bottom:1px solid #e6e9ed;vertical-align:top}\n"
    "th{background:#f0f2f5;font-weight:600}\n"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".status-success{color:#116329}.status-failed,.err{color:#b42318}.warn{color:#8a5a00}\n"
    "#filters{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin-bottom:8px}\n"
    "#filters input[type=search]{width:320px;padding:4px 6px}\n"
    ".pager{display:flex;gap:8px;align-items:center;margin:8px 0}\n"
    ".entry{border:1px solid #e1e5ea;border-radius:5px;margin:6px 0;padding:4px 10px}\n"
    ".entry.k-send{border-left:4px solid #1f6feb}.entry.k-held{border-left:4px solid #b42318}\n"
    ".entry.k-import,.entry.k-connector-space{border-left:4px solid #8c959f}\n"
    ".entry.k-metaverse{border-left:4px solid #8250df}.entry.k-skipped,.entry.k-export{border-left:4px solid #bf8700}\n"
    ".entry summary{cursor:pointer}\n"
    ".kind{font-weight:600}.obj{font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}\n"
    ".drift{background:#fff1c2;color:#7a4d00;border-radius:3px;padding:0 4px;font-size:12px}\n"
    ".changes td{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px;white-space:pre-wrap;word-break:break-all}\n"
    ".changes td.old{color:#9a1c1c}.changes td.new{color:#116329}.changes td.rule{font-family:inherit;color:#57606a}\n"
    ".changes tr.dr td{background:#fff8e1}\n"
    ".muted{color:#57606a}\n"
    "pre.log{white-space:pre-wrap;margin:0;font-size:12.5px}\n";

/* Renders with DOM text nodes only (textContent, never innerHTML): a value is text, whatever it
 * holds. */
static const char page_js[] =
    "(function(){\n"
    "'use strict';\n"
    "var PAGE=100,MAXROWS=50;\n"
    "var meta=JSON.parse(document.getElementById('mvs-meta').textContent);\n"
    "var chunks=[].slice.call(document.querySelectorAll('script.mvs-chunk'));\n"
    "var counts=JSON.parse(document.getElementById('mvs-counts').textContent),total=counts.changes;\n"
    "var sizes=chunks.map(function(c,i){return i<chunks.length-1?counts.chunk:total-counts.chunk*(chunks.length-1);});\n"
    "var cache=new Map();\n"
    "function el(tag,cls,text){var e=document.createElement(tag);if(cls)e.className=cls;if(text!=null)e.textContent=String(text);return e;}\n"
    "function norm(e){\n"
    "  if(e.changes)return e;\n"
    "  var ch=[];Object.keys(e.attrs||{}).forEach(function(a){Object.keys(e.attrs[a]).forEach(function(m){\n"
    "    var vs=e.attrs[a][m];if(!vs.length&&m==='replace')ch.push({attr:a,old:null,new:null,rule:'replace: clear'});\n"
    "    vs.forEach(function(v){ch.push({attr:a,old:m==='delete'?v:null,new:m==='delete'?null:v,rule:m});});});});\n"
    "  return {kind:'pending',where:e.connector,object:e.dn||'',op:e.op+(e.status==='sent'?' (sent)':''),\n"
    "    detail:e.error?'error: '+e.error:e.new_dn,error:!!e.error,changes:ch};\n"
    "}\n"
    "function chunk(i){var c=cache.get(i);if(!c){c=JSON.parse(chunks[i].textContent).map(norm);if(cache.size>8)cache.delete(cache.keys().next().value);cache.set(i,c);}return c;}\n"
    "function vtext(v){\n"
    "  if(v===null||v===undefined)return '(none)';\n"
    "  if(Array.isArray(v))return v.map(vtext).join('\\n');\n"
    "  if(typeof v==='object'){\n"
    "    if('ref' in v)return v.ref;\n"
    "    if('binary' in v)return 'binary '+v.binary;\n"
    "    if('datetime' in v)return v.datetime;\n"
    "    return JSON.stringify(v);\n"
    "  }\n"
    "  return typeof v==='string'?v:String(v);\n"
    "}\n"
    "function row(tr,cells){cells.forEach(function(c){var td=el('td',c[1],c[0]);tr.appendChild(td);});return tr;}\n"
    "function table(head,rows){\n"
    "  var t=el('table'),h=el('tr');head.forEach(function(x){h.appendChild(el('th',null,x));});t.appendChild(h);\n"
    "  rows.forEach(function(r){var tr=el('tr');r.forEach(function(c){tr.appendChild(el('td',typeof c==='number'?'n':null,c));});t.appendChild(tr);});\n"
    "  return t;\n"
    "}\n"
    "/* ---- the summary ---- */\n"
    "function renderSummary(){\n"
    "  var s=document.getElementById('summary'),sum=meta.summary||[];\n"
    "  var by=function(kinds){var m=new Map();sum.forEach(function(x){if(kinds.indexOf(x.kind)<0)return;\n"
    "    var k=x.where;if(!m.has(k))m.set(k,{});var o=m.get(k);o[x.kind+' '+x.op]=(o[x.kind+' '+x.op]||0)+x.objects;o.values=(o.values||0)+x.values;});return m;};\n"
    "  function writes(kind,title){\n"
    "    var m=by([kind]);if(!m.size&&kind!=='send')return;\n"
    "    s.appendChild(el('h2',null,title));\n"
    "    if(!m.size){s.appendChild(el('p','muted','nothing'));return;}\n"
    "    var rows=[];m.forEach(function(o,w){rows.push([w,o[kind+' add']||0,o[kind+' update']||0,o[kind+' rename']||0,o[kind+' delete']||0,o.values||0]);});\n"
    "    s.appendChild(table(['target connector','adds','updates','renames','deletes','values'],rows));\n"
    "  }\n"
    "  function changes(kinds,title,head){\n"
    "    var m=by(kinds);if(!m.size)return;\n"
    "    s.appendChild(el('h2',null,title));\n"
    "    var rows=[];m.forEach(function(o,w){var parts=[];Object.keys(o).forEach(function(k){if(k!=='values')parts.push(o[k]+' '+k.replace('connector-space','sync'));});\n"
    "      rows.push([w,parts.join(', ')]);});\n"
    "    s.appendChild(table(head,rows));\n"
    "  }\n"
    "  writes('send','What would be written');\n"
    "  writes('held','Held back by the deletion threshold (not written)');\n"
    "  writes('export','Pending exports it would stage (an export run sends them)');\n"
    "  changes(['import','connector-space'],'Connector spaces',['connector','changes']);\n"
    "  changes(['metaverse'],'Metaverse',['object type','changes']);\n"
    "  var sk=by(['skipped']);\n"
    "  if(sk.size){s.appendChild(el('h2',null,'References skipped (their objects have no object in the target connector)'));\n"
    "    var rows=[];sk.forEach(function(o,w){rows.push([w,o['skipped references']||0,o.values||0]);});\n"
    "    s.appendChild(table(['target connector','objects','values left out'],rows));}\n"
    "}\n"
    "function renderRun(){\n"
    "  var r=meta.run,s=document.getElementById('summary');\n"
    "  s.appendChild(el('h2',null,'The run'));\n"
    "  s.appendChild(table(['id','profile','connector','started','ms','adds','updates','deletes','errors','references skipped','drift','status'],\n"
    "    [[r.id,r.profile,r.connector||'-',r.started,r.duration_ms,r.adds,r.updates,r.deletes,r.errors,r.skipped_refs,r.drift,r.status]]));\n"
    "  s.appendChild(el('p','muted','A recorded run keeps its counts and its log; the objects it changed are listed by a dry run (mvsync report --dry-run). Below: the exports still pending now.'));\n"
    "}\n"
    "function renderLog(){\n"
    "  var lines=(meta.log||(meta.run&&meta.run.log)||'').split('\\n').filter(function(l){return l;});\n"
    "  var errs=lines.filter(function(l){return l.indexOf('error: ')===0;}),warns=lines.filter(function(l){return l.indexOf('warning: ')===0;});\n"
    "  var s=document.getElementById('errors');\n"
    "  s.appendChild(el('h2',null,'Errors ('+errs.length+') and warnings ('+warns.length+')'));\n"
    "  if(!errs.length&&!warns.length)s.appendChild(el('p','muted','none'));\n"
    "  errs.forEach(function(l){s.appendChild(el('div','err',l));});\n"
    "  warns.forEach(function(l){s.appendChild(el('div','warn',l));});\n"
    "  var d=el('details');d.appendChild(el('summary',null,'the run log ('+lines.length+' lines)'));d.appendChild(el('pre','log',lines.join('\\n')));s.appendChild(d);\n"
    "}\n"
    "/* ---- filters, search and pages: driven by the URL fragment (#q=...&kind=send&page=2) ---- */\n"
    "var st={q:'',kind:'',where:'',op:'',drift:false,page:1},matches=null;\n"
    "function readHash(){\n"
    "  var p=new URLSearchParams(location.hash.slice(1));\n"
    "  st={q:p.get('q')||'',kind:p.get('kind')||'',where:p.get('where')||'',op:p.get('op')||'',drift:p.get('drift')==='1',page:Math.max(1,+(p.get('page')||1)|0)};\n"
    "}\n"
    "function writeHash(){\n"
    "  var p=new URLSearchParams();\n"
    "  ['q','kind','where','op'].forEach(function(k){if(st[k])p.set(k,st[k]);});\n"
    "  if(st.drift)p.set('drift','1');if(st.page>1)p.set('page',st.page);\n"
    "  history.replaceState(null,'','#'+p.toString());\n"
    "}\n"
    "function filtered(){return st.q||st.kind||st.where||st.op||st.drift;}\n"
    "function test(e,q){\n"
    "  if(st.kind&&e.kind!==st.kind)return false;\n"
    "  if(st.where&&e.where!==st.where)return false;\n"
    "  if(st.op&&e.op!==st.op)return false;\n"
    "  if(st.drift&&!e.drift)return false;\n"
    "  return !q||JSON.stringify(e).toLowerCase().indexOf(q)>=0||vtextAll(e).indexOf(q)>=0;\n"
    "}\n"
    "function vtextAll(e){return (e.object+' '+(e.detail||'')+' '+e.changes.map(function(c){return c.attr+' '+vtext(c.old)+' '+vtext(c.new)+' '+(c.rule||'');}).join(' ')).toLowerCase();}\n"
    "function search(){\n"
    "  if(!filtered()){matches=null;return total;}\n"
    "  var q=st.q.toLowerCase(),plain=/^[\\x20-\\x7e]*$/.test(q)&&!/[<>&\"\\\\]/.test(q),out=[];\n"
    "  for(var i=0;i<chunks.length;i++){\n"
    "    if(q&&plain&&chunks[i].textContent.toLowerCase().indexOf(q)<0)continue;\n"
    "    var c=chunk(i);\n"
    "    for(var j=0;j<c.length;j++)if(test(c[j],q))out.push(i*65536+j);\n"
    "  }\n"
    "  matches=out;return out.length;\n"
    "}\n"
    "function at(n){\n"
    "  if(matches){var m=matches[n];return chunk(Math.floor(m/65536))[m%65536];}\n"
    "  for(var i=0;i<sizes.length;i++){if(n<sizes[i])return chunk(i)[n];n-=sizes[i];}\n"
    "  return null;\n"
    "}\n"
    "function renderEntry(e){\n"
    "  var box=el('details','entry k-'+e.kind);box.open=true;\n"
    "  var sm=el('summary');\n"
    "  sm.appendChild(el('span','kind',e.kind+' '+e.where+': '+e.op+' '));\n"
    "  sm.appendChild(el('span','obj',e.object));\n"
    "  if(e.detail)sm.appendChild(el('span','muted',(e.op==='rename'?' \\u2192 ':' (')+e.detail+(e.op==='rename'?'':')')));\n"
    "  if(e.drift){sm.appendChild(document.createTextNode(' '));sm.appendChild(el('span','drift','drift'));}\n"
    "  box.appendChild(sm);\n"
    "  if(e.changes.length){\n"
    "    var t=el('table','changes'),h=el('tr');\n"
    "    ['attribute','old','','new','rule'].forEach(function(x){h.appendChild(el('th',null,x));});t.appendChild(h);\n"
    "    var shown=Math.min(e.changes.length,MAXROWS);\n"
    "    function add(from,to){for(var k=from;k<to;k++){var c=e.changes[k],tr=el('tr',c.drift?'dr':null);\n"
    "      row(tr,[[c.attr],[e.kind==='skipped'?'':vtext(c.old),'old'],[e.kind==='skipped'?'':'\\u2192'],[e.kind==='skipped'?c.new+' values left out':vtext(c.new),'new'],[(c.rule||'')+(c.drift?' (drift: the directory was changed outside the rules)':''),'rule']]);\n"
    "      t.appendChild(tr);}}\n"
    "    add(0,shown);box.appendChild(t);\n"
    "    if(e.changes.length>shown){var b=el('button',null,'show all '+e.changes.length+' changes');\n"
    "      b.onclick=function(){add(shown,e.changes.length);b.remove();};box.appendChild(b);}\n"
    "  }\n"
    "  return box;\n"
    "}\n"
    "function render(){\n"
    "  var n=search(),pages=Math.max(1,Math.ceil(n/PAGE));\n"
    "  if(st.page>pages)st.page=pages;\n"
    "  var list=document.getElementById('list');list.textContent='';\n"
    "  document.getElementById('count').textContent=n+' of '+total+' changes'+(filtered()?' match':'')+' \\u2014 page '+st.page+' of '+pages;\n"
    "  for(var i=(st.page-1)*PAGE;i<Math.min(n,st.page*PAGE);i++)list.appendChild(renderEntry(at(i)));\n"
    "  if(!n)list.appendChild(el('p','muted','no changes'+(filtered()?' match the filters':'')));\n"
    "  document.getElementById('prev').disabled=st.page<=1;document.getElementById('next').disabled=st.page>=pages;\n"
    "  writeHash();\n"
    "}\n"
    "function setupFilters(){\n"
    "  var kinds=new Set(),wheres=new Set(),ops=new Set();\n"
    "  (meta.summary||[]).forEach(function(x){kinds.add(x.kind);wheres.add(x.where);ops.add(x.op);});\n"
    "  if(meta.run)for(var i=0;i<total;i++){var e=at(i);kinds.add(e.kind);wheres.add(e.where);ops.add(e.op);}\n"
    "  function fill(id,set,all){var s=document.getElementById(id);s.appendChild(new Option(all,''));\n"
    "    Array.from(set).sort().forEach(function(v){s.appendChild(new Option(v,v));});s.value=st[id]||'';\n"
    "    s.onchange=function(){st[id]=s.value;st.page=1;render();};}\n"
    "  fill('kind',kinds,'every kind');fill('where',wheres,'every connector / type');fill('op',ops,'every operation');\n"
    "  var q=document.getElementById('q'),t=null;q.value=st.q;\n"
    "  q.oninput=function(){clearTimeout(t);t=setTimeout(function(){st.q=q.value;st.page=1;render();},250);};\n"
    "  var d=document.getElementById('drift');d.checked=st.drift;d.onchange=function(){st.drift=d.checked;st.page=1;render();};\n"
    "  document.getElementById('prev').onclick=function(){st.page--;render();};\n"
    "  document.getElementById('next').onclick=function(){st.page++;render();};\n"
    "}\n"
    "document.title=meta.title;\n"
    "document.getElementById('title').textContent=meta.title;\n"
    "document.getElementById('sub').textContent=meta.subtitle;\n"
    "readHash();\n"
    "if(meta.run)renderRun();else renderSummary();\n"
    "renderLog();\n"
    "setupFilters();\n"
    "render();\n"
    "window.addEventListener('hashchange',function(){readHash();render();});\n"
    "document.body.setAttribute('data-ready','1');\n"
    "})();\n";

/* JSON text inside a <script> block: '<', '>' and '&' only occur inside JSON strings, where
 * \u003c (and so on) means the same character, and no value can close the block ("</script>")
 * or open a comment. */
static int write_json_text(FILE *out, const char *s, size_t n)
{
  size_t i, from = 0;
  for (i = 0; i < n; i++) {
    const char *esc = s[i] == '<' ? "\\u003c" : s[i] == '>' ? "\\u003e" : s[i] == '&' ? "\\u0026"
                                                                                   : NULL;
    if (!esc)
      continue;
    if (fwrite(s + from, 1, i - from, out) != i - from || fputs(esc, out) == EOF)
      return -1;
    from = i + 1;
  }
  return fwrite(s + from, 1, n - from, out) == n - from ? 0 : -1;
}

static void write_html_text(FILE *out, const char *s)
{
  for (; *s; s++) {
    switch (*s) {
    case '<': fputs("&lt;", out); break;
    case '>': fputs("&gt;", out); break;
    case '&': fputs("&amp;", out); break;
    case '"': fputs("&quot;", out); break;
    case '\'': fputs("&#39;", out); break;
    default: fputc(*s, out);
    }
  }
}

int report_page_begin(report_page *p, FILE *out, const char *title, const char *meta,
                      size_t meta_len)
{
  p->out = out;
  p->n = 0;
  fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
        out);
  write_html_text(out, title);
  fprintf(out, "</title>\n<style>\n%s</style></head>\n<body>\n"
          "<header><h1 id=\"title\"></h1><p id=\"sub\"></p></header>\n<main>\n"
          "<noscript><p>This report renders its data with JavaScript.</p></noscript>\n"
          "<section id=\"summary\"></section>\n<section id=\"errors\"></section>\n"
          "<section id=\"changes\"><h2>Changes</h2>\n<div id=\"filters\">"
          "<input type=\"search\" id=\"q\" placeholder=\"search DNs, attributes, values, rules\">"
          "<select id=\"kind\"></select><select id=\"where\"></select><select id=\"op\"></select>"
          "<label><input type=\"checkbox\" id=\"drift\"> drift only</label></div>\n"
          "<div class=\"pager\"><button id=\"prev\">previous</button><span id=\"count\"></span>"
          "<button id=\"next\">next</button></div>\n<div id=\"list\"></div>\n</section>\n</main>\n"
          "<script type=\"application/json\" id=\"mvs-meta\">", page_css);
  if (write_json_text(out, meta, meta_len) != 0)
    return -1;
  fputs("</script>\n", out);
  return ferror(out) ? -1 : 0;
}

int report_page_entry(void *u, const char *entry, size_t len)
{
  report_page *p = u;
  if (p->n % REPORT_CHUNK == 0)
    fputs(p->n ? "]</script>\n<script type=\"application/json\" class=\"mvs-chunk\">["
               : "<script type=\"application/json\" class=\"mvs-chunk\">[",
          p->out);
  else
    fputc(',', p->out);
  p->n++;
  if (write_json_text(p->out, entry, len) != 0 || fputc('\n', p->out) == EOF)
    return -1;
  return 0;
}

int report_page_end(report_page *p)
{
  if (p->n)
    fputs("]</script>\n", p->out);
  fprintf(p->out, "<script type=\"application/json\" id=\"mvs-counts\">"
          "{\"changes\": %zu, \"chunk\": %d}</script>\n<script>\n%s</script>\n</body></html>\n",
          p->n, REPORT_CHUNK, page_js);
  return fflush(p->out) != 0 || ferror(p->out) ? -1 : 0;
}
