// stallmig studio — the little the pages need from a script: ask before a
// delete. Served by stallrun from the repository; nothing is fetched.
document.addEventListener("DOMContentLoaded", () => {
  const del = document.getElementById("delete-form");
  if (del) del.addEventListener("submit", (e) => { if (!confirm("Delete this row?")) e.preventDefault(); });
});
