// Storefront: "use my location" fills latitude/longitude from the browser and submits the nearby-stores form.
(function () {
  var form = document.getElementById("sf-locate");
  var button = document.getElementById("sf-use-location");
  if (!form || !button || !("geolocation" in navigator)) return;
  var status = document.getElementById("sf-location-status");
  var texts = document.getElementById("sf-texts").dataset;
  button.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = texts.locatingText;
    navigator.geolocation.getCurrentPosition(function (position) {
      form.elements.lat.value = position.coords.latitude.toFixed(6);
      form.elements.lng.value = position.coords.longitude.toFixed(6);
      form.submit();
    }, function () {
      status.textContent = texts.noLocationText;
    }, {enableHighAccuracy: false, timeout: 10000, maximumAge: 600000});
  });
})();
