/* The script of `mvsync report --html` (tools/cli_report_html.c embeds it): renders the report's
 * data — JSON in <script type="application/json"> blocks — one page of changes at a time, with
 * filters and search driven by the URL fragment (#q=TEXT&kind=send&where=CONNECTOR&op=add&
 * drift=1&page=N).  Data become DOM text nodes only (textContent, never innerHTML): a value is
 * text whatever it holds. */
(function(){
'use strict';
var PAGE=100,MAXROWS=50;
var meta=JSON.parse(document.getElementById('mvs-meta').textContent);
var chunks=[].slice.call(document.querySelectorAll('script.mvs-chunk'));
var counts=JSON.parse(document.getElementById('mvs-counts').textContent),total=counts.changes;
var sizes=chunks.map(function(c,i){return i<chunks.length-1?counts.chunk:total-counts.chunk*(chunks.length-1);});
var cache=new Map();
function el(tag,cls,text){var e=document.createElement(tag);if(cls)e.className=cls;if(text!=null)e.textContent=String(text);return e;}
function norm(e){
  if(e.changes)return e;
  var ch=[];Object.keys(e.attrs||{}).forEach(function(a){Object.keys(e.attrs[a]).forEach(function(m){
    var vs=e.attrs[a][m];if(!vs.length&&m==='replace')ch.push({attr:a,old:null,new:null,rule:'replace: clear'});
    vs.forEach(function(v){ch.push({attr:a,old:m==='delete'?v:null,new:m==='delete'?null:v,rule:m});});});});
  return {kind:'pending',where:e.connector,object:e.dn||'',op:e.op+(e.status==='sent'?' (sent)':''),
    detail:e.error?'error: '+e.error:e.new_dn,error:!!e.error,changes:ch};
}
function chunk(i){var c=cache.get(i);if(!c){c=JSON.parse(chunks[i].textContent).map(norm);if(cache.size>8)cache.delete(cache.keys().next().value);cache.set(i,c);}return c;}
function vtext(v){
  if(v===null||v===undefined)return '(none)';
  if(Array.isArray(v))return v.map(vtext).join('\n');
  if(typeof v==='object'){
    if('ref' in v)return v.ref;
    if('binary' in v)return 'binary '+v.binary;
    if('datetime' in v)return v.datetime;
    return JSON.stringify(v);
  }
  return typeof v==='string'?v:String(v);
}
function row(tr,cells){cells.forEach(function(c){var td=el('td',c[1],c[0]);tr.appendChild(td);});return tr;}
function table(head,rows){
  var t=el('table'),h=el('tr');head.forEach(function(x){h.appendChild(el('th',null,x));});t.appendChild(h);
  rows.forEach(function(r){var tr=el('tr');r.forEach(function(c){tr.appendChild(el('td',typeof c==='number'?'n':null,c));});t.appendChild(tr);});
  return t;
}
/* ---- the summary ---- */
function renderSummary(){
  var s=document.getElementById('summary'),sum=meta.summary||[];
  var by=function(kinds){var m=new Map();sum.forEach(function(x){if(kinds.indexOf(x.kind)<0)return;
    var k=x.where;if(!m.has(k))m.set(k,{});var o=m.get(k);o[x.kind+' '+x.op]=(o[x.kind+' '+x.op]||0)+x.objects;o.values=(o.values||0)+x.values;});return m;};
  function writes(kind,title){
    var m=by([kind]);if(!m.size&&kind!=='send')return;
    s.appendChild(el('h2',null,title));
    if(!m.size){s.appendChild(el('p','muted','nothing'));return;}
    var rows=[];m.forEach(function(o,w){rows.push([w,o[kind+' add']||0,o[kind+' update']||0,o[kind+' rename']||0,o[kind+' delete']||0,o.values||0]);});
    var t=table(['target connector','adds','updates','renames','deletes','values'],rows);
    /* A connector's name lists its writes. */
    [].slice.call(t.querySelectorAll('tr')).slice(1).forEach(function(tr,i){
      var a=el('a',null,rows[i][0]);a.href='#'+new URLSearchParams({kind:kind,where:rows[i][0]}).toString();
      tr.firstChild.textContent='';tr.firstChild.appendChild(a);});
    s.appendChild(t);
  }
  function changes(kinds,title,head){
    var m=by(kinds);if(!m.size)return;
    s.appendChild(el('h2',null,title));
    var rows=[];m.forEach(function(o,w){var parts=[];Object.keys(o).forEach(function(k){if(k!=='values')parts.push(o[k]+' '+(kinds.length>1?k.replace('connector-space','sync'):k.split(' ')[1]));});
      rows.push([w,parts.join(', ')]);});
    s.appendChild(table(head,rows));
  }
  writes('send','What would be written');
  writes('held','Held back by the deletion threshold (not written)');
  writes('export','Pending exports it would stage (an export run sends them)');
  changes(['import','connector-space'],'Connector spaces',['connector','changes']);
  changes(['metaverse'],'Metaverse',['object type','changes']);
  var sk=by(['skipped']);
  if(sk.size){s.appendChild(el('h2',null,'References skipped (their objects have no object in the target connector)'));
    var rows=[];sk.forEach(function(o,w){rows.push([w,o['skipped references']||0,o.values||0]);});
    s.appendChild(table(['target connector','objects','values left out'],rows));}
}
function renderRun(){
  var r=meta.run,s=document.getElementById('summary');
  s.appendChild(el('h2',null,'The run'));
  s.appendChild(table(['id','profile','connector','started','ms','adds','updates','deletes','errors','references skipped','drift','status'],
    [[r.id,r.profile,r.connector||'-',r.started,r.duration_ms,r.adds,r.updates,r.deletes,r.errors,r.skipped_refs,r.drift,r.status]]));
  s.appendChild(el('p','muted','A recorded run keeps its counts and its log; the objects it changed are listed by a dry run (mvsync report --dry-run). Below: the exports still pending now.'));
}
function renderLog(){
  var lines=(meta.log||(meta.run&&meta.run.log)||'').split('\n').filter(function(l){return l;});
  var errs=lines.filter(function(l){return l.indexOf('error: ')===0;}),warns=lines.filter(function(l){return l.indexOf('warning: ')===0;});
  var s=document.getElementById('errors');
  s.appendChild(el('h2',null,'Errors ('+errs.length+') and warnings ('+warns.length+')'));
  if(!errs.length&&!warns.length)s.appendChild(el('p','muted','none'));
  errs.forEach(function(l){s.appendChild(el('div','err',l));});
  warns.forEach(function(l){s.appendChild(el('div','warn',l));});
  var d=el('details');d.appendChild(el('summary',null,'the run log ('+lines.length+' lines)'));d.appendChild(el('pre','log',lines.join('\n')));s.appendChild(d);
}
/* ---- filters, search and pages: driven by the URL fragment (#q=...&kind=send&page=2) ---- */
var st={q:'',kind:'',where:'',op:'',drift:false,page:1},matches=null;
function readHash(){
  var p=new URLSearchParams(location.hash.slice(1));
  st={q:p.get('q')||'',kind:p.get('kind')||'',where:p.get('where')||'',op:p.get('op')||'',drift:p.get('drift')==='1',page:Math.max(1,+(p.get('page')||1)|0)};
}
function writeHash(){
  var p=new URLSearchParams();
  ['q','kind','where','op'].forEach(function(k){if(st[k])p.set(k,st[k]);});
  if(st.drift)p.set('drift','1');if(st.page>1)p.set('page',st.page);
  history.replaceState(null,'','#'+p.toString());
}
function filtered(){return st.q||st.kind||st.where||st.op||st.drift;}
function test(e,q){
  if(st.kind&&e.kind!==st.kind)return false;
  if(st.where&&e.where!==st.where)return false;
  if(st.op&&e.op!==st.op)return false;
  if(st.drift&&!e.drift)return false;
  return !q||JSON.stringify(e).toLowerCase().indexOf(q)>=0||vtextAll(e).indexOf(q)>=0;
}
function vtextAll(e){return (e.object+' '+(e.detail||'')+' '+e.changes.map(function(c){return c.attr+' '+vtext(c.old)+' '+vtext(c.new)+' '+(c.rule||'');}).join(' ')).toLowerCase();}
function search(){
  if(!filtered()){matches=null;return total;}
  var q=st.q.toLowerCase(),plain=/^[\x20-\x7e]*$/.test(q)&&!/[<>&"\\]/.test(q),out=[];
  for(var i=0;i<chunks.length;i++){
    if(q&&plain&&chunks[i].textContent.toLowerCase().indexOf(q)<0)continue;
    var c=chunk(i);
    for(var j=0;j<c.length;j++)if(test(c[j],q))out.push(i*65536+j);
  }
  matches=out;return out.length;
}
function at(n){
  if(matches){var m=matches[n];return chunk(Math.floor(m/65536))[m%65536];}
  for(var i=0;i<sizes.length;i++){if(n<sizes[i])return chunk(i)[n];n-=sizes[i];}
  return null;
}
function renderEntry(e){
  var box=el('details','entry k-'+e.kind);box.open=true;
  var sm=el('summary');
  sm.appendChild(el('span','kind',e.kind+' '+e.where+': '+e.op+' '));
  sm.appendChild(el('span','obj',e.object));
  if(e.detail)sm.appendChild(el('span','muted',(e.op==='rename'?' \u2192 ':' (')+e.detail+(e.op==='rename'?'':')')));
  if(e.drift){sm.appendChild(document.createTextNode(' '));sm.appendChild(el('span','drift','drift'));}
  box.appendChild(sm);
  if(e.changes.length){
    var t=el('table','changes'),h=el('tr');
    ['attribute','old','','new','rule'].forEach(function(x){h.appendChild(el('th',null,x));});t.appendChild(h);
    var shown=Math.min(e.changes.length,MAXROWS);
    function add(from,to){for(var k=from;k<to;k++){var c=e.changes[k],tr=el('tr',c.drift?'dr':null);
      row(tr,[[c.attr],[e.kind==='skipped'?'':vtext(c.old),'old'],[e.kind==='skipped'?'':'\u2192'],[e.kind==='skipped'?c.new+' values left out':vtext(c.new),'new'],[(c.rule||'')+(c.drift?' (drift: the directory was changed outside the rules)':'')+(c.contested?' (contested: another rule can set it too; mvsync authority)':''),'rule']]);
      t.appendChild(tr);}}
    add(0,shown);box.appendChild(t);
    if(e.changes.length>shown){var b=el('button',null,'show all '+e.changes.length+' changes');
      b.onclick=function(){add(shown,e.changes.length);b.remove();};box.appendChild(b);}
  }
  return box;
}
function render(){
  var n=search(),pages=Math.max(1,Math.ceil(n/PAGE));
  if(st.page>pages)st.page=pages;
  var list=document.getElementById('list');list.textContent='';
  document.getElementById('count').textContent=n+' of '+total+' changes'+(filtered()?' match':'')+' \u2014 page '+st.page+' of '+pages;
  for(var i=(st.page-1)*PAGE;i<Math.min(n,st.page*PAGE);i++)list.appendChild(renderEntry(at(i)));
  if(!n)list.appendChild(el('p','muted','no changes'+(filtered()?' match the filters':'')));
  document.getElementById('prev').disabled=st.page<=1;document.getElementById('next').disabled=st.page>=pages;
  writeHash();
}
function setupFilters(){
  var kinds=new Set(),wheres=new Set(),ops=new Set();
  (meta.summary||[]).forEach(function(x){kinds.add(x.kind);wheres.add(x.where);ops.add(x.op);});
  if(meta.run)for(var i=0;i<total;i++){var e=at(i);kinds.add(e.kind);wheres.add(e.where);ops.add(e.op);}
  function fill(id,set,all){var s=document.getElementById(id);s.appendChild(new Option(all,''));
    Array.from(set).sort().forEach(function(v){s.appendChild(new Option(v,v));});s.value=st[id]||'';
    s.onchange=function(){st[id]=s.value;st.page=1;render();};}
  fill('kind',kinds,'every kind');fill('where',wheres,'every connector / type');fill('op',ops,'every operation');
  var q=document.getElementById('q'),t=null;q.value=st.q;
  q.oninput=function(){clearTimeout(t);t=setTimeout(function(){st.q=q.value;st.page=1;render();},250);};
  var d=document.getElementById('drift');d.checked=st.drift;d.onchange=function(){st.drift=d.checked;st.page=1;render();};
  document.getElementById('prev').onclick=function(){st.page--;render();};
  document.getElementById('next').onclick=function(){st.page++;render();};
}
document.title=meta.title;
document.getElementById('title').textContent=meta.title;
document.getElementById('sub').textContent=meta.subtitle;
readHash();
if(meta.run)renderRun();else renderSummary();
renderLog();
setupFilters();
render();
window.addEventListener('hashchange',function(){readHash();render();});
document.body.setAttribute('data-ready','1');
})();
