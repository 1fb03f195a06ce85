def test_home_page_explains_shangliang(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "有事好商量" in response.get_data(as_text=True)
