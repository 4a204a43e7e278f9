// OAuth 2.0 Form Post Response Mode: send the answer on to the application at once.
// Without JavaScript the page's Continue button does the same.
document.getElementById('form-post-response').submit()
