function migExport(){
 const rows=[["source","code","mj","text","decided_by","evidence","count","candidates"]];
 const by=document.getElementById("decided_by").value;
 document.querySelectorAll("section.char").forEach(function(s){
  const code=s.dataset.code;let mj="";let ev="";
  const picked=s.querySelector("input[type=radio]:checked");
  if(picked&&picked.value){mj=picked.value;ev=picked.dataset.evidence;}
  const other=s.querySelector("input.other").value.trim();
  if(other){mj=other.toUpperCase();ev="mig gaiji review: entered by hand";}
  rows.push([s.dataset.source,code,mj,"",mj?by:"",ev,s.dataset.count,s.dataset.candidates]);
 });
 const q=function(v){v=String(v);return /[",\r\n]/.test(v)?'"'+v.replace(/"/g,'""')+'"':v;};
 const text="\ufeff"+rows.map(function(r){return r.map(q).join(",");}).join("\r\n")+"\r\n";
 const a=document.createElement("a");
 a.href=URL.createObjectURL(new Blob([text],{type:"text/csv;charset=utf-8"}));
 a.download="gaiji-decisions.csv";document.body.appendChild(a);a.click();a.remove();
}
