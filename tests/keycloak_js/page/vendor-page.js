// A vendor's browser page, started the way eHealth's own sample starts keycloak-js
// (smals-belgium/shared-referral-prescription-webcomponent): login-required, no login iframe,
// PKCE S256. Only the response mode varies (and `check-sso`, to look for a realm session
// with prompt=none). The test drives `window.keycloak` from here on.
import Keycloak from '/keycloak.js'

const config = document.body.dataset
const status = document.getElementById('status')
const keycloak = new Keycloak({
  url: config.keycloakUrl,
  realm: 'healthcare',
  clientId: config.clientId
})
window.keycloak = keycloak

// What a vendor's page does with the token: call the app's API with it.
window.callApi = async (path) => {
  const response = await fetch(config.apiUrl + path, {
    headers: { Authorization: `Bearer ${keycloak.token}` }
  })
  return { status: response.status, body: await response.json() }
}

try {
  const authenticated = await keycloak.init({
    onLoad: config.onLoad,
    checkLoginIframe: false,
    pkceMethod: 'S256',
    responseMode: config.responseMode
  })
  status.dataset.state = authenticated ? 'authenticated' : 'anonymous'
  status.textContent = authenticated ? `Logged in as ${keycloak.tokenParsed.name}` : 'Not logged in'
} catch (error) {
  status.dataset.state = 'error'
  status.textContent = `keycloak-js failed: ${error && (error.message || JSON.stringify(error))}`
}
