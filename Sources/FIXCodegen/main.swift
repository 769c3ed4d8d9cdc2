print("fixgen")
